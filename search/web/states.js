// The states of the page besides results: loading (an indicator after 150 ms, aria-busy at
// once), empty (what to try next: the suggestion, removing each filter, the query help) and
// error (the API's message, no pager).

const LOADING_DELAY = 150; // ms: a quick answer shows no indicator at all
let loadingTimer;

const el = (tag, props = {}, children = []) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

export function loading() {
  document.body.dataset.state = "loading";
  document.querySelector("#main").setAttribute("aria-busy", "true");
  clearTimeout(loadingTimer);
  loadingTimer = setTimeout(() => { document.querySelector("#loading").hidden = false; }, LOADING_DELAY);
}

export function settled(state) {
  clearTimeout(loadingTimer);
  document.querySelector("#loading").hidden = true;
  document.querySelector("#main").removeAttribute("aria-busy");
  document.body.dataset.state = state;
}

// What to try when nothing matches. `actions`: suggest(q), remove(name, value), clearDates().
export function emptyState(result, state, actions) {
  const box = el("div", { id: "empty", className: "empty" });
  box.append(el("h2", { textContent: state.q ? `No articles match “${state.q}”` : "No articles match" }));
  const tries = el("ul");
  if (result.suggestion) {
    const link = el("button", { type: "button", className: "link suggestion", textContent: result.suggestion.q });
    link.addEventListener("click", () => actions.suggest(result.suggestion.q));
    tries.append(el("li", {}, ["Search for ", link, ` instead (${result.suggestion.total.toLocaleString("en")})`]));
  }
  for (const [name, values] of Object.entries(state.filters)) {
    for (const value of values) {
      const button = el("button", { type: "button", className: "link remove-filter", textContent: `${name}: ${value}` });
      button.dataset.facet = name;
      button.dataset.value = value;
      button.addEventListener("click", () => actions.remove(name, value));
      tries.append(el("li", {}, ["Remove the filter ", button]));
    }
  }
  if (state.from || state.to) {
    const button = el("button", { type: "button", className: "link remove-filter", textContent: `${state.from || "…"} to ${state.to || "…"}` });
    button.dataset.facet = "dates";
    button.addEventListener("click", () => actions.clearDates());
    tries.append(el("li", {}, ["Remove the dates ", button]));
  }
  const help = el("button", { type: "button", className: "link", textContent: "the query syntax" });
  help.addEventListener("click", () => {
    const details = document.querySelector("#help");
    details.open = true;
    details.querySelector("summary").focus();
  });
  tries.append(el("li", {}, ["Check ", help, ": names are found in every spelling, AND is implied, a prefix needs 2 letters before *"]));
  box.append(tries);
  return box;
}
