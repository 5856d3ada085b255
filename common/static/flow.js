// The flow at a glance on the landing page: every few seconds it asks each service for
// its state (GET <service>/status) and writes the figures into the page's cards. The
// page works without it: the cards then show their links and no figures.
const TIMEOUT_MS = 10_000;  // a service that holds the request longer counts as silent

// A figure of a card (an element marked data-figure="<field>") shows that field of the
// service's status as it is, so that the page alone says which fields a service has.
// These fields of every consumer's status read better written out.
const WRITTEN_OUT = {
  secondsBehind: (status) => String(Math.round(status.secondsBehind)),
  state: (status) => (status.state === "backing off"
    ? `backing off, next try in ${Math.ceil(status.retryInSeconds)}\u00a0s` : status.state),
  reason: (status) => (status.reason ? `The last poll failed: ${status.reason}` : ""),
};

function figureOf(status, field) {
  return Object.hasOwn(WRITTEN_OUT, field) ? WRITTEN_OUT[field](status) : String(status[field]);
}

// A service's status, or an Error whose message says why there is none.
async function readStatus(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin",
                                  signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw new Error(error.name === "TimeoutError" ? `no answer within ${TIMEOUT_MS / 1000} s` : "no connection");
  }
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

// One card: its figures, or why the service behind it is silent (its figures hidden,
// since the last ones read may no longer hold). The sentence for the summary, if any.
async function refreshCard(card) {
  const figures = card.querySelector(".figures");
  const problem = card.querySelector("[data-problem]");
  try {
    const status = await readStatus(card.dataset.status);
    for (const figure of card.querySelectorAll("[data-figure]")) {
      figure.textContent = figureOf(status, figure.dataset.figure);
    }
    figures.hidden = false;
    problem.textContent = "";
    return status.entriesBehind ? `${card.dataset.name} is ${status.entriesBehind} `
      + `${status.entriesBehind === 1 ? "entry" : "entries"} behind.` : "";
  } catch (error) {
    figures.hidden = true;
    problem.textContent = `${card.dataset.name} does not answer (${error.message}).`;
    return problem.textContent;
  }
}

// The summary is a live region: screen readers announce it when it changes, so it
// holds what changes rarely (who is silent, who is behind) and not the seconds.
function summarize(flow, sentences) {
  const summary = flow.querySelector("[role=status]");
  const text = sentences.filter(Boolean).join(" ") || "Every service answers, and none is behind.";
  if (summary.textContent !== text) summary.textContent = text;
}

function follow(flow) {
  const cards = [...flow.querySelectorAll("[data-status]")];
  const seconds = Number(flow.dataset.refreshSeconds);
  const refresh = async () => {
    // A hidden tab asks nobody; the next round after it shows again catches up.
    if (document.visibilityState === "visible") summarize(flow, await Promise.all(cards.map(refreshCard)));
    setTimeout(refresh, seconds * 1000);  // after the round, so that rounds never overlap
  };
  refresh();
}

function element(tag, properties, ...children) {
  const made = Object.assign(document.createElement(tag), properties);
  made.append(...children);
  return made;
}

function signedInLine(name) {
  const signOut = element("form", { method: "post", action: "/account/sign-out" },
                          element("button", { type: "submit", className: "link" }, "Sign out"));
  return [element("span", {}, "Signed in as ", element("strong", {}, name)), " ", separator(), " ",
          element("a", { href: "/account/" }, "Your account"), " ", separator(), " ", signOut];
}

function separator() {
  const dot = element("span", { className: "separator" }, "\u00b7");
  dot.setAttribute("aria-hidden", "true");
  return dot;
}

// Who is signed in, as the account service says (GET /account/caller, which answers
// 200 to anyone): the landing page is a static file, so it asks. The line is the one
// the services' pages have (common/templates/layout.html); nothing is shown while
// sign-in is off or unknown.
async function showCaller(place) {
  try {
    const response = await fetch("/account/caller", { headers: { Accept: "application/json" },
                                                      credentials: "same-origin" });
    if (!response.ok) return;
    const { signIn, name } = await response.json();
    if (signIn !== "on") return;
    place.replaceChildren(...(name ? signedInLine(name)
      : [element("a", { href: "/account/sign-in?next=/" }, "Sign in")]));
    place.hidden = false;
  } catch {
    // No account service to ask: the page works without the line.
  }
}

const flow = document.getElementById("flow");
if (flow) follow(flow);
const caller = document.getElementById("caller");
if (caller) showCaller(caller);
