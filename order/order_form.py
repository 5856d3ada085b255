"""The new-order form: what a person typed, in the shape of a JSON order request, and
what the page says about it (line amounts, the total, the problems as links to their fields)."""
from __future__ import annotations

from decimal import Decimal

from common.forms import Problem, Summary
from common.numbers import whole_number
from order.models import Item
from order.service import MAX_COUNT, MAX_LINES

SAME_ADDRESS = "billingSameAsShipping"  # the box "Billing address same as shipping"
ADDRESSES = ("shippingAddress", "billingAddress")
GROUPS = {"customerId": "Customer", "shippingAddress": "Shipping address", "billingAddress": "Billing address",
          "lines": "Lines"}


def blank_form() -> dict:
    address = {"street": "", "zip": "", "city": ""}
    return {"customerId": "", "shippingAddress": dict(address), "billingAddress": dict(address),
            SAME_ADDRESS: False, "lines": [{"itemId": "", "count": "1"}]}


def form_values(posted) -> dict:
    """The posted form in the shape of a JSON order request, values as typed; with the
    box "same as shipping" ticked, the billing address is the shipping address."""
    form = blank_form()
    form["customerId"] = posted.get("customerId", "")
    for key in ADDRESSES:
        for name in form[key]:
            form[key][name] = posted.get(f"{key}.{name}", "")
    form[SAME_ADDRESS] = SAME_ADDRESS in posted
    if form[SAME_ADDRESS]:
        form["billingAddress"] = dict(form["shippingAddress"])
    # The form numbers its lines from 0 (lines-<n>-itemId, lines-<n>-count), fewer than MAX_LINES;
    # a page's script may leave gaps in n.
    indexes = {whole_number(key.split("-")[1], MAX_LINES - 1)
               for key in posted if key.startswith("lines-") and key.count("-") == 2}
    form["lines"] = [{"itemId": posted.get(f"lines-{i}-itemId", ""), "count": posted.get(f"lines-{i}-count", "")}
                     for i in sorted(index for index in indexes if index is not None)]
    return form


def shown_errors(form: dict, errors: dict[str, str]) -> dict[str, str]:
    """The errors of fields the form shows: a billing address copied from the shipping
    address has the shipping address's problems, said there already."""
    if not form[SAME_ADDRESS]:
        return errors
    return {key: text for key, text in errors.items() if not key.startswith("billingAddress.")}


def refusal(title: str, form: dict, errors: dict[str, str]) -> Summary:
    """`title` with the number of problems ("The order was not placed: 2 problems"), and
    each problem as a link to its field."""
    problems = tuple(_problem(key, text, form) for key, text in errors.items())
    return Summary(f"{title}: {len(problems)} {'problem' if len(problems) == 1 else 'problems'}", problems)


def _problem(key: str, text: str, form: dict) -> Problem:
    sentence = text[:1].lower() + text[1:]
    if key.startswith("lines["):  # lines[<position>].itemId or .count, as the service names them
        position, name = key.removeprefix("lines[").split("].")
        return Problem(f"lines-{position}-{name}", f"Line {int(position) + 1}: {sentence}")
    if key == "lines":
        return Problem("lines-0-itemId" if form["lines"] else "add-line", f"{GROUPS[key]}: {sentence}")
    return Problem(key, f"{GROUPS[key.split('.')[0]]}: {sentence}")


def line_amounts(form: dict, items: list[Item]) -> tuple[list[Decimal | None], Decimal]:
    """Each line's amount where its item and count are known, and their sum."""
    prices = {str(item.id): item.price for item in items}
    amounts = []
    for line in form["lines"]:
        count = whole_number(line["count"].strip(), MAX_COUNT)
        amounts.append(prices[line["itemId"]] * count if line["itemId"] in prices and count else None)
    return amounts, sum((amount for amount in amounts if amount is not None), Decimal("0.00"))
