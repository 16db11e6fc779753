// The operator console: reads the node's own HTTP API with the key the operator gives (kept for this tab only) and
// shows what the cluster holds and serves. Every value from the API is written as text, never as markup.

const keyStorage = "recommender-console-key";
const root = document.getElementById("view");
const status = document.getElementById("status");

/** An element with attributes and children (strings become text nodes). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A problem the API answered (RFC 7807), or a request that did not reach it. */
class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/**
 * A call to the API: a GET without a body; with a body, a JSON request (POST unless another method is given); with a
 * method and a null body, that method without one (the model actions take none).
 */
async function api(path, body, method = "POST", timeout = 60_000, extraHeaders = {}) {
  return (await apiTagged(path, body, method, timeout, extraHeaders)).answer;
}

/** A call to the API as {@link api} makes it, answering also the ETag the answer carries (null without one). */
async function apiTagged(path, body, method = "POST", timeout = 60_000, extraHeaders = {}) {
  const key = sessionStorage.getItem(keyStorage);
  const headers = { ...(key ? { "X-Api-Key": key } : {}), ...extraHeaders };
  let response;
  try {
    // A request the node does not answer in time is given up, so that the view says so rather than wait.
    const signal = AbortSignal.timeout(timeout);
    response = await fetch(path, body === undefined ? { headers, signal }
      : body === null ? { method, headers, signal }
      : { method, headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(body), signal });
  } catch (error) {
    throw new ApiProblem(0, { title: "The node did not answer", detail: String(error) });
  }
  const answer = (response.headers.get("content-type") || "").includes("json") ? await response.json() : {};
  if (!response.ok) throw new ApiProblem(response.status, answer);
  return { answer, etag: response.headers.get("etag") };
}

function problemBox(error) {
  const problem = error instanceof ApiProblem ? error.problem : { detail: String(error) };
  let hint = null;
  if (error.status === 401) hint = "This needs an API key: enter a client key (an admin key for models' management) above.";
  if (error.status === 403) hint = "The key given may not read this: an admin key is needed.";
  if (error.status === 412) hint = "It is not as this page expected (changed, created or deleted by someone else meanwhile): open it again to see it as it is.";
  const fields = Object.entries(problem.errors || {}).map(([field, messages]) => el("li", {}, `${field}: ${[].concat(messages).join(" ")}`));
  return el("div", { class: "problem", role: "alert" },
    el("strong", {}, problem.title || "The request failed"),
    problem.detail && problem.detail !== problem.title ? el("div", {}, problem.detail) : null,
    hint ? el("div", {}, hint) : null,
    fields.length ? el("ul", {}, fields) : null);
}

const itemLink = (id) => el("a", { href: `#/items/${encodeURIComponent(id)}`, "data-item": id }, id);
const userLink = (id) => el("a", { href: `#/users/${encodeURIComponent(id)}` }, id);
const time = (value) => (value ? new Date(value).toLocaleString() : "");
const percent = (score) => `${(score * 100).toFixed(2)} %`;

function table(caption, headings, rows, attributes = {}, empty = "None.") {
  return el("table", attributes,
    el("caption", { class: "note" }, caption),
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.length ? rows : [el("tr", {}, el("td", { colspan: headings.length }, empty))]));
}

/** A ranked list (recommendations, similar items, popular): rank, item, title, score and what placed it. */
function rankedTable(name, answer, withReasons) {
  const rows = answer.items.map((item, i) => el("tr", { "data-id": item.id },
    el("td", { class: "number" }, i + 1),
    el("td", {}, itemLink(item.id), item.pinned ? el("span", { class: "badge" }, "pinned") : null, item.slot ? el("span", { class: "badge" }, `slot ${item.slot}`) : null),
    el("td", {}, item.title),
    el("td", { class: "number" }, percent(item.score)),
    withReasons ? el("td", {}, (item.because || []).map((r) => r.title).join("; ")) : null));
  const headings = ["#", "Item", "Title", "Score", ...(withReasons ? ["Because of"] : [])];
  return table(`${name}: model ${answer.modelVersion}${answer.source ? `, from ${answer.source}` : ""}${answer.cached ? ", cached" : ""}`,
    headings, rows, { id: name.toLowerCase().replaceAll(" ", "-") });
}

/** A form whose fields go into the hash, so that every view is a link the operator can share. */
function queryForm(fields, onSubmit) {
  const form = el("form", { class: "query" },
    fields.map((f) => el("label", {}, f.label, el("input", { name: f.name, value: f.value ?? "", required: f.required, placeholder: f.placeholder, inputmode: f.numeric ? "numeric" : null }))),
    el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onSubmit(Object.fromEntries(new FormData(form).entries()));
  });
  return form;
}

function hashWith(path, parameters) {
  const query = new URLSearchParams(Object.entries(parameters).filter(([, v]) => v !== "" && v !== undefined));
  return `#/${path}${query.size ? `?${query}` : ""}`;
}

async function userView(view, id, parameters) {
  const k = parameters.get("k") || "10";
  const scenario = parameters.get("scenario") || "";
  const form = queryForm([
    { label: "User id", name: "user", value: id, required: true },
    { label: "k", name: "k", value: k, numeric: true },
    { label: "Scenario", name: "scenario", value: scenario, placeholder: "none" },
  ], (values) => { location.hash = hashWith(`users/${encodeURIComponent(values.user.trim())}`, { k: values.k, scenario: values.scenario }); });
  view.replaceChildren(el("h2", {}, "A user's recommendations and history"), takeNotice() ?? "", form);
  if (!id) return;
  const query = new URLSearchParams({ k, explain: "true" });
  if (scenario) query.set("scenario", scenario);
  const [recommendations, history] = await Promise.allSettled([
    api(`/users/${encodeURIComponent(id)}/recommendations?${query}`),
    api(`/users/${encodeURIComponent(id)}/history`),
  ]);
  const recommended = el("section", {}, el("h2", {}, "Recommendations for ", id));
  recommended.append(recommendations.status === "fulfilled" ? rankedTable("Recommendations", recommendations.value, true) : problemBox(recommendations.reason));
  const events = el("section", {}, el("h2", {}, "History"));
  if (history.status === "fulfilled") {
    const newest = [...history.value.events].reverse().slice(0, 50);
    const titles = await titlesOf(newest.map((e) => e.itemId));
    // Each event can be taken back (DELETE /users/{id}/events/{eventId}): a mistaken purchase, a view by someone else.
    const takeBack = (e) => confirmedAction("Take back", `Take back ${id}'s ${e.type} of ${e.itemId} (event ${e.eventId})? The model no longer reads it.`,
      async () => `${(await api(`/users/${encodeURIComponent(id)}/events/${encodeURIComponent(e.eventId)}`, null, "DELETE")).removedEvents
        ? `Event ${e.eventId} taken back.` : `Event ${e.eventId} was no longer in the history.`}`, "take-back");
    events.append(table(`${history.value.totalCount} events, newest first (at most 50 shown)`, ["When", "Type", "Item", "Title", "Value", ""],
      newest.map((e) => el("tr", { "data-event": e.eventId }, el("td", {}, time(e.timestamp)), el("td", {}, e.type), el("td", {}, itemLink(e.itemId)),
        el("td", {}, titles.get(e.itemId) ?? el("span", { class: "note" }, "not in the catalogue")),
        el("td", { class: "number" }, e.value ?? ""), el("td", {}, takeBack(e)))), { id: "history" }));
  } else {
    events.append(problemBox(history.reason));
  }
  // Erasure (an admin key): the user's events and state, as DELETE /users/{id} erases them.
  events.append(el("div", { class: "actions" }, confirmedAction("Erase the user", `Erase ${id}: every event and all that is stored of the user? This cannot be undone.`,
    async () => `User ${id} erased (stored events deleted: ${(await api(`/users/${encodeURIComponent(id)}`, null, "DELETE")).erasedEvents}).`, "erase-user")));
  view.append(recommended, events);
}

/** The titles of the items (one POST /items/lookup); an item not in the catalogue has none, and a failed read shows ids only. */
async function titlesOf(ids) {
  const distinct = [...new Set(ids)];
  if (!distinct.length) return new Map();
  try {
    const answer = await api("/items/lookup", distinct);
    return new Map(answer.items.map((item) => [item.id, item.title]));
  } catch {
    return new Map(distinct.map((id) => [id, ""]));
  }
}

async function sessionView(view, parameters) {
  const items = parameters.get("items") || "";
  const k = parameters.get("k") || "10";
  const scenario = parameters.get("scenario") || "";
  const form = queryForm([
    { label: "Items the visitor had, oldest first (ids, comma-separated)", name: "items", value: items, required: true },
    { label: "k", name: "k", value: k, numeric: true },
    { label: "Scenario", name: "scenario", value: scenario, placeholder: "none" },
  ], (values) => { location.hash = hashWith("session", values); });
  view.replaceChildren(el("h2", {}, "An anonymous visitor's recommendations"),
    el("p", { class: "note" }, "What a session with these items gets (POST /recommendations); nothing is stored."), form);
  if (!items) return;
  const query = new URLSearchParams({ k, explain: "true" });
  if (scenario) query.set("scenario", scenario);
  const answer = await api(`/recommendations?${query}`, { items: items.split(",").map((id) => id.trim()).filter((id) => id.length) });
  view.append(el("section", {}, el("h2", {}, "Recommendations for the session"), rankedTable("Session", answer, true)));
}

async function itemView(view, id, parameters) {
  const k = parameters.get("k") || "10";
  const form = queryForm([
    { label: "Item id", name: "item", value: id, required: true },
    { label: "Similar items (k)", name: "k", value: k, numeric: true },
  ], (values) => { location.hash = hashWith(`items/${encodeURIComponent(values.item.trim())}`, { k: values.k }); });
  const title = parameters.get("title") || "";
  const finder = queryForm([{ label: "Find by title", name: "title", value: title, required: true, placeholder: "part of a title" }],
    (values) => { location.hash = hashWith("items", { title: values.title.trim() }); });
  view.replaceChildren(el("h2", {}, "An item and the items like it"), takeNotice() ?? "", form, finder);
  if (!id && title) {
    const found = await api(`/items?${new URLSearchParams({ title, k: "50" })}`);
    view.append(el("section", {}, table(`Items whose title holds "${title}" (model ${found.modelVersion}; at most 50, closest first)`, ["Item", "Title"],
      found.items.map((item) => el("tr", { "data-id": item.id }, el("td", {}, itemLink(item.id)), el("td", {}, item.title))), { id: "found" })));
  }
  if (!id) return;
  const [item, similar] = await Promise.allSettled([
    apiTagged(`/items/${encodeURIComponent(id)}`, undefined),
    api(`/items/${encodeURIComponent(id)}/similar?${new URLSearchParams({ k })}`),
  ]);
  const details = el("section", {}, el("h2", {}, "Item ", id));
  if (item.status === "fulfilled") {
    const { answer: i, etag } = item.value;
    const rows = [
      ["Title", i.title], ["Text", i.text || "none"], ["Tags", (i.tags || []).join(", ") || "none"],
      ["Recommendable", i.recommendable ? `yes (vector from ${i.vectorSource})` : `no${i.note ? `: ${i.note}` : ""}`],
      ["Hidden", i.hidden ? "yes" : "no"], ["Available from", time(i.availableFrom) || "always"], ["Expires at", time(i.expiresAt) || "never"],
      ["Placement", i.placement ? `model ${i.placement.modelVersion}, shard ${i.placement.shard}, row ${i.placement.row}` : "none"],
      ["Updated", time(i.updatedAt)],
    ];
    details.append(el("dl", { class: "details", id: "item-details" }, rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", { "data-field": name }, value)])));
    // The item is deleted as this page shows it (If-Match): one written meanwhile is refused (412), to be read again.
    details.append(hiddenToggle(i, etag), itemEditor(i, etag), el("div", { class: "actions" }, confirmedAction("Delete the item",
      `Delete ${id}? Its details are erased and it leaves every list; histories keep its id.`,
      async () => ((await api(`/items/${encodeURIComponent(id)}`, null, "DELETE", 60_000, etag ? { "If-Match": etag } : {})).deleted
        ? `Item ${id} deleted.` : `Item ${id} was not in the catalogue.`),
      "delete-item", "#/items")));
  } else {
    details.append(problemBox(item.reason));
  }
  const like = el("section", {}, el("h2", {}, "Similar items"));
  like.append(similar.status === "fulfilled" ? rankedTable("Similar items", similar.value, false) : problemBox(similar.reason));
  view.append(details, like);
}

/**
 * A change of the item as this page read it (PATCH /items/{id}, a merge patch: only the fields given change), then the
 * view read again. It is sent with If-Match: the page's version. When another client wrote the item since (412), the
 * item is read again: if that write changed none of the fields this change gives, the change is sent against the new
 * version; if it changed one of them, nothing is sent and the problem names the field, with both values, so that
 * the operator does not overwrite a change they have not seen.
 */
async function changeItem(item, etag, change) {
  const path = `/items/${encodeURIComponent(item.id)}`;
  try {
    await api(path, change, "PATCH", 60_000, etag ? { "If-Match": etag } : {});
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.status !== 412) throw error;
    const { answer: now, etag: current } = await apiTagged(path, undefined);
    const shown = (value) => (value === undefined || value === null ? "none" : Array.isArray(value) ? value.join(", ") || "none" : String(value));
    const clashes = Object.keys(change).filter((name) => JSON.stringify(item[name] ?? null) !== JSON.stringify(now[name] ?? null));
    if (clashes.length) {
      throw new ApiProblem(412, {
        title: "Changed by someone else since this page read it: nothing was written.",
        errors: Object.fromEntries(clashes.map((name) => [name, `was ${shown(item[name])} when read, is ${shown(now[name])} now; yours: ${shown(change[name])}.`])),
      });
    }
    await api(path, change, "PATCH", 60_000, { "If-Match": current });
  }
  await route();
}

/** A button that hides the item from every list or shows it again: only its hidden flag changes. */
function hiddenToggle(item, etag) {
  const button = el("button", { type: "button", id: "toggle-hidden" }, item.hidden ? "Show in lists again" : "Hide from every list");
  const outcome = el("div", { "aria-live": "polite" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await changeItem(item, etag, { hidden: !item.hidden });
    } catch (error) {
      button.disabled = false;
      outcome.replaceChildren(problemBox(error));
    }
  });
  return el("div", { class: "actions" }, button, outcome);
}

/**
 * A form that edits the item's title, text, tags (one a line) and window (ISO 8601 times; empty removes one). Only the
 * fields the operator changed are sent, so a change made meanwhile by another client to the others is kept, and one
 * made to the same fields is not overwritten ({@link changeItem}).
 */
function itemEditor(item, etag) {
  const fields = {
    title: item.title,
    text: item.text ?? "",
    tags: (item.tags || []).join("\n"),
    availableFrom: item.availableFrom ?? "",
    expiresAt: item.expiresAt ?? "",
  };
  const input = (name, label, multiline) => el("label", {}, label, multiline
    ? el("textarea", { name, rows: name === "tags" ? 3 : 2 }, fields[name])
    : el("input", { name, value: fields[name], placeholder: name === "title" ? null : "none (ISO 8601, e.g. 2026-12-24T18:00:00Z)" }));
  const outcome = el("div", { "aria-live": "polite" });
  const form = el("form", { class: "query edit", id: "item-editor" },
    input("title", "Title"), input("text", "Text", true), input("tags", "Tags, one a line", true),
    input("availableFrom", "Available from"), input("expiresAt", "Expires at"),
    el("button", { type: "submit" }, "Save changes"), outcome);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    const change = {};
    for (const name of Object.keys(fields)) {
      // A text area's lines may come back ending in CR LF.
      const given = values[name].replaceAll("\r\n", "\n");
      if (given === fields[name]) continue;
      const value = given.trim();
      if (name === "tags") change.tags = value.split("\n").map((t) => t.trim()).filter((t) => t.length);
      else change[name] = value === "" && name !== "title" ? null : value;
    }
    if (!Object.keys(change).length) {
      outcome.replaceChildren(el("p", { class: "note" }, "Nothing changed."));
      return;
    }
    try {
      await changeItem(item, etag, change);
    } catch (error) {
      outcome.replaceChildren(problemBox(error));
    }
  });
  return el("details", {}, el("summary", {}, "Edit the item"), form);
}

async function listsView(view, parameters) {
  const tag = parameters.get("tag") || "";
  const k = parameters.get("k") || "10";
  const form = queryForm([
    { label: "Tag", name: "tag", value: tag, placeholder: "any" },
    { label: "k", name: "k", value: k, numeric: true },
  ], (values) => { location.hash = hashWith("lists", values); });
  view.replaceChildren(el("h2", {}, "The popular list and the newest items"), form);
  const query = new URLSearchParams({ k });
  if (tag) query.set("tag", tag);
  const [popular, latest] = await Promise.allSettled([api(`/popular?${query}`), api(`/latest?${query}`)]);
  const popularSection = el("section", {}, el("h2", {}, "Popular now"));
  popularSection.append(popular.status === "fulfilled" ? rankedTable("Popular", popular.value, false) : problemBox(popular.reason));
  const latestSection = el("section", {}, el("h2", {}, "Newest"));
  latestSection.append(latest.status === "fulfilled"
    ? table(`Newest: model ${latest.value.modelVersion}`, ["#", "Item", "Title", "Available from"], latest.value.items.map((item, i) => el("tr", { "data-id": item.id },
      el("td", { class: "number" }, i + 1), el("td", {}, itemLink(item.id), item.pinned ? el("span", { class: "badge" }, "pinned") : null),
      el("td", {}, item.title), el("td", {}, time(item.availableFrom)))), { id: "latest" },
      "None: only items written with an availableFrom are listed here.")
    : problemBox(latest.reason));
  view.append(el("div", { class: "columns" }, popularSection, latestSection));
}

/** What the last action did, shown once at the top of the view that follows it. */
let pendingNotice = null;

/** The notice left by the last action, if any, as the first element of the view it is shown in. */
function takeNotice() {
  const notice = pendingNotice;
  pendingNotice = null;
  return notice ? el("p", { class: "notice", id: "notice", role: "status" }, notice) : null;
}

/**
 * A button that asks before it acts: its click names what will happen, Confirm does it (then the view is read again
 * and says what was done), Cancel puts the button back. Model actions change what every user is served.
 */
function confirmedAction(label, question, run, id, next = null) {
  const button = el("button", { type: "button", "data-action": id }, label);
  const box = el("span", { class: "action" }, button);
  button.addEventListener("click", () => {
    const confirm = el("button", { type: "button", class: "confirm", "data-confirm": id }, "Confirm");
    const cancel = el("button", { type: "button" }, "Cancel");
    const outcome = el("span", { "aria-live": "polite" });
    box.replaceChildren(el("span", { class: "question" }, typeof question === "function" ? question() : question), confirm, cancel, outcome);
    cancel.addEventListener("click", () => box.replaceChildren(button));
    confirm.addEventListener("click", async () => {
      confirm.disabled = cancel.disabled = true;
      outcome.textContent = "Working…";
      try {
        pendingNotice = await run();
        // The next view, when the action leaves nothing to show here (a deletion), else this one read again.
        if (next && location.hash !== next) location.hash = next;
        else await route();
      } catch (error) {
        confirm.disabled = cancel.disabled = false;
        outcome.replaceChildren(problemBox(error));
      }
    });
  });
  return box;
}

const activated = (answer) => `${answer.active} is active${answer.previous ? ` (was ${answer.previous})` : ""}: ${answer.shards} shards, `
  + `${answer.carriedItems} items written since its training carried over, ${answer.notRecommendable.length} not recommendable, `
  + `${answer.notInCatalogue} of its trained items not in the catalogue.`;

/** The share field (in per cent) an A/B test's start or change reads. */
function shareInput(version, value) {
  return el("input", { type: "number", min: "0.1", max: "100", step: "0.1", value, class: "share", "aria-label": `Share of the users for ${version}, in per cent` });
}

/** The share field with its unit, as one of the row's actions. */
function shareField(input) {
  return el("span", { class: "action" }, input, "% of the users");
}

function sharePart(input) {
  const percentValue = Number(input.value);
  if (!(percentValue > 0 && percentValue <= 100)) throw new ApiProblem(0, { title: "The share must be above 0 % and at most 100 %." });
  return percentValue / 100;
}

function modelActions(m, models) {
  const actions = [];
  const quoted = encodeURIComponent(m.version);
  if (m.version === models.active || m.state === "activating") return actions;
  actions.push(confirmedAction("Activate", `Serve ${m.version} to every user, in place of ${models.active ?? "nothing"}?`,
    async () => activated(await api(`/models/${quoted}/activate`, null, "POST", 11 * 60_000)), `activate:${m.version}`));
  if (m.version === models.candidate) {
    const share = shareInput(m.version, (models.candidateShare * 100).toFixed(1));
    actions.push(shareField(share),
      confirmedAction("Change share", () => `Serve ${m.version} to ${share.value} % of the users?`, async () => {
        const answer = await api(`/models/${quoted}/candidate?share=${sharePart(share)}`, null, "POST", 5 * 60_000);
        return `${answer.candidate} serves ${percent(answer.share)} of the users beside ${answer.active}.`;
      }, `share:${m.version}`),
      confirmedAction("Stop A/B test", `Serve ${models.active} to every user again?`, async () => {
        await api(`/models/${quoted}/candidate`, null, "DELETE");
        return `The A/B test of ${m.version} stopped: every user gets ${models.active}.`;
      }, `stop:${m.version}`));
  } else if (models.active && !models.candidate) {
    const share = shareInput(m.version, "10");
    actions.push(shareField(share),
      confirmedAction("Start A/B test", () => `Serve ${m.version} to ${share.value} % of the users beside ${models.active}?`, async () => {
        const answer = await api(`/models/${quoted}/candidate?share=${sharePart(share)}`, null, "POST", 11 * 60_000);
        return `${answer.candidate} serves ${percent(answer.share)} of the users beside ${answer.active}.`;
      }, `candidate:${m.version}`));
  }
  return actions;
}

async function modelsView(view) {
  view.replaceChildren(el("h2", {}, "Model versions"), takeNotice() ?? "");
  const models = await api("/models");
  const rows = models.models.map((m) => el("tr", { "data-version": m.version },
    el("td", {}, m.version, m.version === models.active ? el("span", { class: "badge" }, "active") : null,
      m.version === models.candidate ? el("span", { class: "badge" }, `candidate ${percent(models.candidateShare)}`) : null),
    el("td", {}, m.state), el("td", {}, m.kind), el("td", { class: "number" }, m.dimension), el("td", { class: "number" }, m.itemCount),
    el("td", {}, time(m.registeredAt)), el("td", {}, time(m.activatedAt)),
    el("td", {}, Object.entries(m.metrics || {}).map(([name, value]) => `${name} ${Number(value).toFixed(4)}`).join(", ")),
    el("td", { class: "actions-cell" }, modelActions(m, models))));
  const rollback = models.rollbackTarget
    ? confirmedAction(`Roll back to ${models.rollbackTarget}`, `Serve ${models.rollbackTarget} to every user, in place of ${models.active}?`,
      async () => activated(await api("/models/rollback", null, "POST", 11 * 60_000)), "rollback")
    : null;
  view.append(el("section", {}, table(models.rollbackTarget ? `A rollback would return to ${models.rollbackTarget}.` : "No version to roll back to.",
    ["Version", "State", "Kind", "Dimension", "Items", "Registered", "Activated", "Recorded scores", "Actions"], rows, { id: "models" }),
    rollback ? el("div", { class: "actions" }, rollback) : null));
  if (models.candidate) {
    try {
      const results = await api(`/models/${encodeURIComponent(models.candidate)}/candidate/results`);
      view.append(abSection(results));
    } catch (error) {
      // No user's next event counted yet: the test has nothing to compare.
      view.append(el("section", {}, el("h2", {}, `A/B test: ${models.candidate} against ${models.active}`),
        error.status === 404 ? el("p", { class: "note" }, "No user's next event after its lists has been counted yet.") : problemBox(error)));
    }
  }
}

/** The A/B test's comparisons, each side's counts and the check of the split, as GET /models/{version}/candidate/results gives them. */
function abSection(results) {
  const number = (value, digits = 4) => (value === null || value === undefined ? "" : Number(value).toFixed(digits));
  const rates = [["Hit rate", results.hitRate, percent], ["Mean reciprocal rank", results.meanReciprocalRank, number],
    ["Dismissals per list", results.dismissalsPerList, number], ["Purchases per list", results.purchasesPerList, number],
    ["Revenue per list", results.revenuePerList, (v) => number(v, 2)]];
  const rows = rates.map(([name, c, format]) => el("tr", { "data-metric": name },
    el("td", {}, name),
    ...(c ? [el("td", { class: "number" }, format(c.candidate)), el("td", { class: "number" }, format(c.control)),
      el("td", { class: "number" }, `${format(c.difference)} (${format(c.low)} to ${format(c.high)})`),
      el("td", { class: "number" }, number(c.sequentialPValue ?? c.pValue))]
      : [el("td", { colspan: 4, class: "note" }, "not enough events or lists on each side yet")])));
  const arm = (a) => `${a.nextEvents} next events, ${a.lists} lists${a.users === null || a.users === undefined ? "" : `, ${a.users} users`}`;
  const split = results.sampleRatio;
  return el("section", { id: "ab-test" }, el("h2", {}, `A/B test: ${results.candidate} against ${results.control}`),
    el("p", { class: "note" }, `Since ${time(results.since)}${results.running ? `, serving ${percent(results.share)} of the users` : ", ended"}. `
      + `Candidate: ${arm(results.candidateArm)}; control: ${arm(results.controlArm)}.`),
    table("The candidate against the control: the difference with its 95 % interval, and the always-valid p-value (the one-look p-value where there is none).",
      ["Measure", "Candidate", "Control", "Difference", "p"], rows, { id: "ab-results" }),
    split ? el("p", { class: split.mismatch ? "problem" : "note", role: split.mismatch ? "alert" : null, id: "ab-split" },
      `Split: ${split.candidateUsers} users on the candidate's side and ${split.controlUsers} on the control's, ${percent(split.observedShare)} against `
      + `${percent(split.expectedShare)} drawn (p ${number(split.pValue)})${split.mismatch ? ": the sides differ in more than the model; do not trust the comparison." : "."}`) : null);
}

const scenarioRules = ["tag", "excludeTag", "exclude", "boost", "cap", "capEach", "pin", "slot", "diversity", "k", "includeSeen", "fresh", "maxAge",
  "activeFrom", "activeUntil"];

/** A scenario's rules as PUT /scenarios/{name} takes them: the fields it has, none empty. */
function rulesOf(scenario) {
  return Object.fromEntries(scenarioRules.map((name) => [name, scenario[name]])
    .filter(([, value]) => value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0)));
}

async function scenariosView(view) {
  view.replaceChildren(el("h2", {}, "Scenarios"), takeNotice() ?? "");
  const answer = await api("/scenarios");
  const rules = (s) => [
    ...["tag", "excludeTag", "exclude", "boost", "cap", "capEach", "pin", "slot"].flatMap((name) => (s[name] || []).map((value) => `${name}=${value}`)),
    ...["diversity", "k", "includeSeen", "fresh", "maxAge"].filter((name) => s[name] !== null && s[name] !== undefined).map((name) => `${name}=${s[name]}`),
  ].join(" ");
  const rows = answer.scenarios.map((s) => el("tr", { "data-scenario": s.name },
    el("td", {}, el("a", { href: `#/scenarios/${encodeURIComponent(s.name)}` }, s.name), s.active ? null : el("span", { class: "badge" }, "inactive")),
    el("td", {}, rules(s) || "no rules"),
    el("td", {}, [s.activeFrom ? `from ${time(s.activeFrom)}` : "", s.activeUntil ? `until ${time(s.activeUntil)}` : ""].filter(Boolean).join(" ") || "always"),
    el("td", {}, time(s.updatedAt)),
    el("td", {}, el("a", { href: hashWith("users", { scenario: s.name }) }, "try on a user"))));
  view.append(el("section", {}, table(`Revision ${answer.revision}; a list read with scenario=NAME gets its rules. A name opens the scenario to edit.`,
    ["Name", "Rules", "Holds", "Updated", ""], rows, { id: "scenarios" }),
    el("div", { class: "actions" }, el("a", { href: "#/new-scenario", id: "new-scenario" }, "New scenario"))));
}

/**
 * A scenario's rules as JSON to edit, stored with PUT /scenarios/{name} only while the scenario is as this page read it
 * (If-Match: its revision; a new one only while no scenario has the name), with a note for the history; and its deletion.
 */
async function scenarioView(view, name) {
  const creating = name === "";
  const scenario = creating ? null : await api(`/scenarios/${encodeURIComponent(name)}`);
  const nameInput = creating ? el("input", { name: "name", required: true, placeholder: "letters, digits, - _ ." }) : null;
  const rules = el("textarea", { name: "rules", rows: 12, spellcheck: "false" }, JSON.stringify(creating ? {} : rulesOf(scenario), null, 2));
  const note = el("input", { name: "note", placeholder: "why, for the history (optional)" });
  const outcome = el("div", { "aria-live": "polite" });
  const form = el("form", { class: "query edit", id: "scenario-editor" },
    creating ? el("label", {}, "Name", nameInput) : null,
    el("label", {}, "Rules: a JSON object of tag, excludeTag, exclude, boost, cap, capEach, pin, slot, diversity, k, includeSeen, fresh, maxAge, activeFrom, activeUntil", rules),
    el("label", {}, "Note", note),
    el("button", { type: "submit" }, creating ? "Create" : "Save"), outcome);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(rules.value);
    } catch (error) {
      outcome.replaceChildren(problemBox(new ApiProblem(0, { title: "The rules are not valid JSON.", detail: error.message })));
      return;
    }
    const target = creating ? nameInput.value.trim() : name;
    const condition = creating ? { "If-None-Match": "*" } : { "If-Match": `"${scenario.revision}"` };
    const query = note.value.trim() ? `?${new URLSearchParams({ note: note.value.trim() })}` : "";
    try {
      const stored = await api(`/scenarios/${encodeURIComponent(target)}${query}`, body, "PUT", 60_000, condition);
      pendingNotice = `Scenario ${target} ${creating ? "created" : "saved"} at revision ${stored.revision}.`;
      location.hash = "#/scenarios";
    } catch (error) {
      outcome.replaceChildren(problemBox(error));
    }
  });
  view.replaceChildren(el("h2", {}, creating ? "A new scenario" : `Scenario ${name}`),
    creating ? "" : el("p", { class: "note" }, `Revision ${scenario.revision}, updated ${time(scenario.updatedAt)}; saved only while no one has changed it since.`),
    el("section", {}, form));
  if (!creating) {
    view.append(el("div", { class: "actions" }, confirmedAction("Delete the scenario", `Delete ${name}? Lists read with scenario=${name} are refused from then on.`,
      async () => {
        await api(`/scenarios/${encodeURIComponent(name)}`, null, "DELETE", 60_000, { "If-Match": `"${scenario.revision}"` });
        return `Scenario ${name} deleted.`;
      }, "delete-scenario", "#/scenarios")));
  }
}

async function showStatus() {
  try {
    const models = await api("/models");
    const active = models.models.find((m) => m.version === models.active);
    status.textContent = active ? `Active model ${active.version}: ${active.itemCount} items, dimension ${active.dimension}.` : "No model is active yet.";
  } catch (error) {
    status.textContent = error.status === 401 ? "Enter an API key to read the cluster." : `The cluster could not be read: ${error.message}`;
  }
}

async function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const parameters = new URLSearchParams(query || "");
  const [name, ...rest] = path.split("/");
  const id = rest.length ? decodeURIComponent(rest.join("/")) : "";
  const current = ["users", "session", "items", "lists", "models", "scenarios", "new-scenario"].includes(name) ? name : "users";
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("current", link.dataset.view === current.replace("new-scenario", "scenarios"));
  // Each route draws into its own element, so that a slower earlier one still loading draws nowhere visible.
  const view = el("div");
  root.replaceChildren(view);
  root.setAttribute("aria-busy", "true");
  try {
    if (current === "items") await itemView(view, id, parameters);
    else if (current === "lists") await listsView(view, parameters);
    else if (current === "session") await sessionView(view, parameters);
    else if (current === "models") await modelsView(view);
    else if (current === "scenarios" && id) await scenarioView(view, id);
    else if (current === "scenarios") await scenariosView(view);
    else if (current === "new-scenario") await scenarioView(view, "");
    else await userView(view, id, parameters);
  } catch (error) {
    view.append(problemBox(error));
  } finally {
    if (view.isConnected) root.setAttribute("aria-busy", "false");
  }
}

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = document.getElementById("api-key").value.trim();
  if (key) sessionStorage.setItem(keyStorage, key);
  else sessionStorage.removeItem(keyStorage);
  document.getElementById("api-key").value = "";
  showStatus();
  route();
});
document.getElementById("forget-key").addEventListener("click", () => {
  sessionStorage.removeItem(keyStorage);
  showStatus();
  route();
});
window.addEventListener("hashchange", route);
showStatus();
route();
