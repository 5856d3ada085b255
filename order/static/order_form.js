// The new-order form in the browser. The form works without it (the server adds and
// removes lines, and says what is wrong); with it, lines come and go in place, each
// line's amount and the total follow what is chosen, and "Place order" places one
// order, even when sent again after Back.
const form = document.getElementById("order-form");
const lines = document.getElementById("lines");
const addButton = document.getElementById("add-line");
const linesError = document.getElementById("lines-error");
const maxLines = Number(form.dataset.maxLines);
const maxCount = Number(form.dataset.maxCount);
const currency = form.dataset.currency;

const lineElements = () => [...lines.querySelectorAll(".line")];

// Money in whole cents, as the options carry their prices: no binary fractions. It
// reads as the server writes it (common/money.py): "5,100.00 EUR".
function formatCents(cents) {
  const whole = String(Math.trunc(cents / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${whole}.${String(cents % 100).padStart(2, "0")} ${currency}`;
}

// A line's amount in cents, or null while its item or count is not (yet) valid.
function lineCents(line) {
  const chosen = line.querySelector("[data-item]").selectedOptions[0];
  const typed = line.querySelector("[data-count]").value.trim();
  const count = /^[0-9]+$/.test(typed) ? Number(typed) : 0;
  if (!chosen || !chosen.dataset.priceCents || count < 1 || count > maxCount) return null;
  return Number(chosen.dataset.priceCents) * count;
}

function showAmounts() {
  let total = 0;
  for (const line of lineElements()) {
    const cents = lineCents(line);
    line.querySelector("[data-amount]").value = cents === null ? "–" : formatCents(cents);
    total += cents ?? 0;
  }
  document.getElementById("order-total").value = formatCents(total);
}

// What the server would render: "Remove" names its line's position, and shows where there is more than one.
function renumber() {
  const all = lineElements();
  all.forEach((line, position) => {
    const remove = line.querySelector("[data-remove]");
    remove.value = `remove-line-${position}`;
    remove.setAttribute("aria-label", `Remove line ${position + 1}`);
    line.querySelector("[data-line-number]").textContent = `Line ${position + 1}`;
    remove.hidden = all.length === 1;
  });
}

// The smallest number no line has: the server reads lines numbered below the limit, gaps allowed.
function freeNumber() {
  const taken = new Set(lineElements().map((line) => Number(line.dataset.line)));
  let number = 0;
  while (taken.has(number)) number += 1;
  return number;
}

function addLine() {
  if (lineElements().length >= maxLines) {
    linesError.textContent = `An order has at most ${maxLines} lines.`;
    return;
  }
  linesError.textContent = "";
  const number = String(freeNumber());
  const line = document.getElementById("new-line").content.firstElementChild.cloneNode(true);
  for (const element of [line, ...line.querySelectorAll("*")]) {
    for (const attribute of element.attributes) {
      if (attribute.value.includes("__n__")) attribute.value = attribute.value.replaceAll("__n__", number);
    }
  }
  addButton.closest(".lines-end").before(line);
  renumber();
  showAmounts();
  line.querySelector("[data-item]").focus();
}

function removeLine(line) {
  const next = line.nextElementSibling;
  line.remove();
  linesError.textContent = "";
  renumber();
  showAmounts();
  const nextItem = next && next.querySelector("[data-item]");
  (nextItem || addButton).focus();
}

// The key that names the order this form places. A page the browser brings back
// (Back after placing) comes with a new key; the same form sent again from it must show
// the order already placed, so the key sent from this place in the tab's history is
// kept there with what was sent. A form changed since is a new order, with the new key.
const keyField = form.elements.idempotency_key;
const newKey = keyField.value;

function whatIsOrdered() {
  const fields = new URLSearchParams(new FormData(form));
  for (const name of ["csrf_token", "idempotency_key", "action"]) fields.delete(name);
  return fields.toString();
}

function chooseKey() {
  const sent = history.state && history.state.sentOrder;
  const ordered = whatIsOrdered();
  keyField.value = sent && sent.ordered === ordered ? sent.key : newKey;
  history.replaceState({ ...history.state, sentOrder: { key: keyField.value, ordered } }, "");
}

// A second click while the order is on its way would post it again.
function placeOnce(event) {
  if (form.dataset.posting) {
    event.preventDefault();
    return;
  }
  chooseKey();
  form.dataset.posting = "yes";
  const button = document.getElementById("place-order");
  button.dataset.label = button.textContent;
  button.textContent = button.dataset.busy;
  button.disabled = true;  // the server takes a post without its "action" as "place"
}

// Back to the page from the next one (the browser's back-forward cache): ready to post again.
function readyAgain(event) {
  if (!event.persisted || !form.dataset.posting) return;
  delete form.dataset.posting;
  const button = document.getElementById("place-order");
  button.textContent = button.dataset.label;
  button.disabled = false;
}

form.addEventListener("submit", (event) => {
  const action = event.submitter ? event.submitter.value : "place";
  if (action === "add-line") {
    event.preventDefault();
    addLine();
  } else if (action.startsWith("remove-line-")) {
    event.preventDefault();
    removeLine(event.submitter.closest(".line"));
  } else {
    placeOnce(event);
  }
});
form.addEventListener("input", showAmounts);
form.addEventListener("change", showAmounts);
window.addEventListener("pageshow", readyAgain);

// A link of the error summary focuses its field and shows the field's label above it.
function focusField(event) {
  const link = event.target.closest("a[href^='#']");
  if (!link) return;
  const field = document.getElementById(decodeURIComponent(link.hash.slice(1)));
  if (!field) return;
  event.preventDefault();
  field.focus({ preventScroll: true });
  (field.closest(".field, fieldset") || field).scrollIntoView({ block: "start" });
}

const summary = document.getElementById("error-summary");
if (summary) {
  summary.addEventListener("click", focusField);
  summary.focus();
}
showAmounts();
