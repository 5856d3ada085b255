// What the pages of every service do in the browser. Each page works without it;
// with it, times read in the reader's own time zone and the live parts of a page
// (marked data-live) keep themselves current without a full reload.
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  timeZoneName: "short",
});

// The server writes UTC; the reader sees their own zone, and UTC on hover.
function localizeTimes(root) {
  for (const element of root.querySelectorAll("time[datetime]:not([data-ago])")) {
    const moment = new Date(element.dateTime);
    if (Number.isNaN(moment.getTime())) continue;
    element.title = element.textContent.trim();
    element.textContent = TIME_FORMAT.format(moment);
  }
}

// Swap each live region of the page for its counterpart in a fresh copy of it.
function replaceLiveRegions(html) {
  const fresh = new DOMParser().parseFromString(html, "text/html");
  const focused = document.activeElement && document.activeElement.id;
  for (const region of document.querySelectorAll("[data-live][id]")) {
    const counterpart = fresh.getElementById(region.id);
    if (!counterpart) continue;
    localizeTimes(counterpart);
    region.replaceWith(document.importNode(counterpart, true));
  }
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

function showProblem(message) {
  const status = document.getElementById("live-status");
  if (status) status.textContent = message;
}

// Fetch `url` (this page by default) and take its live regions; a problem is shown
// under the poller's state: what failed, why, and what to do.
async function refresh({ url = location.href, method = "GET", body, failure, advice }) {
  try {
    let response = await fetch(url, { method, body, headers: { Accept: "text/html" }, credentials: "same-origin" });
    // A form's answer is the whole list; a list filtered in its URL (?status=, ?q=) asks for its own rows.
    if (response.ok && method === "POST" && location.search) {
      response = await fetch(location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    }
    if (!response.ok) throw new Error(`the service answered ${response.status}`);
    replaceLiveRegions(await response.text());
    showProblem("");
  } catch (error) {
    showProblem(`${failure} (${error.message}). ${advice}`);
  }
}

// A form marked data-live-submit (such as "Poll now") posts in the background; the
// service's answer redirects to this page, whose live regions then replace ours.
let submitting = false;  // a slow poll must not be overtaken by a refresh that re-enables its button

async function submitInPlace(event) {
  const form = event.target.closest("form[data-live-submit]");
  if (!form) return;
  event.preventDefault();
  submitting = true;
  const button = form.querySelector("button");
  button.disabled = true;
  button.dataset.label = button.textContent;
  button.textContent = button.dataset.busy || "Working…";
  await refresh({ url: form.action, method: "POST", body: new URLSearchParams(new FormData(form)),
                  failure: `${button.dataset.label} did not go through`, advice: "Reload the page and try again." });
  submitting = false;
  if (button.isConnected) {
    button.disabled = false;
    button.textContent = button.dataset.label;
  }
}

// What a page that keeps itself current says when a refresh of its own fails.
const NOT_REFRESHED = { failure: "Not refreshed", advice: "The page tries again in a few seconds." };

function startRefreshing() {
  const regions = document.querySelectorAll("[data-live][data-refresh-seconds]");
  if (regions.length === 0) return;
  const seconds = Math.min(...[...regions].map((region) => Number(region.dataset.refreshSeconds)));
  setInterval(() => {
    if (document.visibilityState === "visible" && !submitting) refresh(NOT_REFRESHED);
  }, seconds * 1000);
}

// A page that follows a feed (the invoices, the shipments) shows what was imported
// within about a second: it asks the service's small status document every second and
// takes its live parts when the service's position is past the one the page shows,
// besides the refresh above.
function followPosition() {
  const source = document.querySelector("[data-position-url]");
  if (!source) return;
  let asking = false;  // one question at a time: a slow service is not asked again meanwhile
  setInterval(async () => {
    const shown = document.querySelector("[data-position]");
    if (document.visibilityState !== "visible" || submitting || asking || !shown) return;
    asking = true;
    try {
      const response = await fetch(source.dataset.positionUrl, { headers: { Accept: "application/json" },
                                                                 credentials: "same-origin" });
      if (!response.ok) return;  // the refresh above says what is wrong
      const { position } = await response.json();
      if (position !== Number(shown.dataset.position)) await refresh(NOT_REFRESHED);
    } catch {
      // No answer: the refresh above says so.
    } finally {
      asking = false;
    }
  }, 1000);
}

// "checked 4 s ago", "next try in 8 s": counted on from the seconds the server wrote
// (not from its clock, which may differ from the reader's), in the server's words
// (common/poll_words.py), until a refresh brings new ones.
function span(seconds) {
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]]) {
    if (seconds >= size) return `${Math.floor(seconds / size)} ${unit}`;
  }
  return `${Math.floor(seconds)} s`;
}

const ago = (seconds) => (seconds < 1 ? "just now" : `${span(seconds)} ago`);
const within = (seconds) => (seconds < 1 ? "now" : `in ${span(seconds)}`);

function countOn() {
  const now = performance.now();
  for (const element of document.querySelectorAll("[data-ago], [data-in]")) {
    element.dataset.shownAt ??= String(now);
    const passed = (now - Number(element.dataset.shownAt)) / 1000;
    const text = "ago" in element.dataset
      ? ago(Number(element.dataset.ago) + passed) : within(Number(element.dataset.in) - passed);
    if (element.textContent !== text) element.textContent = text;
  }
}

// A refused form follows the person's fixes: a field that now holds a value it could
// take loses its message, its mark and its line in the summary, whose count goes down.
// The server still judges when the form is sent; nothing is marked wrong here.
function looksFixed(control) {
  const value = control.value.trim();
  if (value === "") return false;
  const { wholeFrom, wholeTo } = control.dataset;  // a whole number in a range, as the server wants it
  if (wholeFrom === undefined) return true;
  return /^[0-9]+$/.test(value) && Number(value) >= Number(wholeFrom) && Number(value) <= Number(wholeTo);
}

function countProblems(summary) {
  const heading = summary.querySelector("h2");
  const left = summary.querySelectorAll("li").length;
  const count = left === 0 ? "all fixed" : `${left} ${left === 1 ? "problem" : "problems"}`;
  heading.textContent = heading.textContent.replace(/(\d+ problems?|all fixed)$/, count);
}

function dropProblem(event) {
  const control = event.target;
  if (control.getAttribute("aria-invalid") !== "true" || !looksFixed(control)) return;
  control.removeAttribute("aria-invalid");
  control.removeAttribute("aria-describedby");
  document.getElementById(`${control.id}-error`)?.remove();
  control.closest(".field")?.classList.remove("invalid");
  const summary = document.getElementById("error-summary");
  const line = summary?.querySelector(`a[href="#${CSS.escape(control.id)}"]`)?.closest("li");
  if (line) {
    line.remove();
    countProblems(summary);
  }
}

localizeTimes(document);
countOn();
setInterval(countOn, 1000);
document.addEventListener("submit", submitInPlace);
document.addEventListener("input", dropProblem);
document.addEventListener("change", dropProblem);
startRefreshing();
followPosition();
