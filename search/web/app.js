// The search page: a client of the JSON API. All state lives in the URL
// (/?q=...&faction=...&sort=...&page=...&from=...&to=...&collapse=story&doc=...), so views can be
// bookmarked, shared and restored with the back button.

import { chipLegend, tagChips } from "./chips.js";
import { renderMap } from "./map.js";
import { emptyState, loading, settled } from "./states.js";
import { renderTimeline } from "./timeline.js";

const FACETS = ["region", "theme", "side", "faction", "place", "operation", "country", "source"];
const PER_PAGE = 10;
const $ = (selector) => document.querySelector(selector);
const el = (tag, props = {}, children = []) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

let inputAt = performance.now(); // when the user last asked for something
let generation = 0; // answers to superseded requests are dropped

// --- state and URL ---------------------------------------------------------------------------

function readState() {
  const params = new URLSearchParams(location.search);
  const state = { q: params.get("q") || "", sort: params.get("sort") || "relevance",
    page: Math.max(1, parseInt(params.get("page") || "1", 10) || 1),
    from: params.get("from") || "", to: params.get("to") || "", doc: params.get("doc") || "",
    collapse: params.get("collapse") === "story", filters: {} };
  for (const name of FACETS) {
    const values = params.getAll(name).filter(Boolean);
    if (values.length) state.filters[name] = values;
  }
  return state;
}

function toParams(state, withDoc = true) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  for (const [name, values] of Object.entries(state.filters)) values.forEach((v) => params.append(name, v));
  if (state.from) params.set("from", state.from);
  if (state.to) params.set("to", state.to);
  if (state.sort !== "relevance") params.set("sort", state.sort);
  if (state.page > 1) params.set("page", String(state.page));
  if (state.collapse) params.set("collapse", "story");
  if (withDoc && state.doc) params.set("doc", state.doc);
  return params;
}

// What the API is asked: the page's parameters, and with one hit per story, counts of stories.
function apiParams(state) {
  const params = toParams(state, false);
  if (state.collapse) params.set("count", "stories");
  return params;
}

// Typing refines one history entry ("Raq" -> "Raqqa"); a new query, a filter, a sort or a page
// is a new entry, so the back button steps through searches, not keystrokes.
function go(state, { typed = false } = {}) {
  const url = "/?" + toParams(state).toString();
  const previous = history.state;
  const refine = typed && previous && previous.typed &&
    (previous.q === "" || (state.q && (state.q.startsWith(previous.q) || previous.q.startsWith(state.q))));
  const entry = { typed, q: state.q };
  if (refine) history.replaceState(entry, "", url); else history.pushState(entry, "", url);
  show(state);
}

// --- API -------------------------------------------------------------------------------------

async function api(path, params) {
  const response = await fetch(path + (params ? "?" + params.toString() : ""), { headers: { Accept: "application/json" } });
  let body;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `the server answered ${response.status}`;
    throw new Error(message);
  }
  return body;
}

// Article text comes from the API HTML-escaped with only <mark> added; refuse anything else.
function setHTML(node, html) {
  if (/</.test(html.replace(/<\/?mark>/g, ""))) node.textContent = html.replace(/<[^>]*>/g, "");
  else node.innerHTML = html;
}

// --- rendering -------------------------------------------------------------------------------

async function show(state) {
  const mine = ++generation;
  window.lastRenderMs = undefined; // set again when this state is drawn, so it never names an older one
  $("#q").value !== state.q && ($("#q").value = state.q);
  $("#sort").value = state.sort;
  $("#one-per-story").checked = state.collapse;
  const params = apiParams(state);
  params.set("per_page", String(PER_PAGE));
  params.set("facets", FACETS.join(","));
  params.set("facet_size", "12");
  params.set("fragments", "2");
  loading();
  try {
    const [result, geo] = await Promise.all([api("/search", params), api("/geo", toParams(state, false))]);
    if (mine !== generation) return;
    $("#error").hidden = true;
    renderStatus(result, state);
    renderTakeAway(state);
    renderFilters(state);
    renderHits(result, state);
    renderFacets(result, state);
    renderHistogram(result, state);
    renderPager(result, state);
    await renderPlaces(geo, state);
    if (mine !== generation) return;
    if (!result.total) $("#map").hidden = true; // the empty state says what to try instead
    settled(result.total ? "ready" : "empty");
  } catch (error) {
    if (mine !== generation) return;
    const help = el("button", { type: "button", className: "link", textContent: "the query syntax" });
    help.addEventListener("click", () => { $("#help").open = true; $("#help summary").focus(); });
    $("#error").replaceChildren(error.message, " (see ", help, ")");
    $("#error").hidden = false;
    $("#status").textContent = "";
    $("#results").replaceChildren();
    $("#legend").replaceChildren();
    $("#pager").hidden = true;
    $("#timeline").hidden = true;
    $("#map").hidden = true;
    $("#take-away").hidden = true;
    settled("error");
  }
  window.lastRenderMs = Math.round(performance.now() - inputAt);
  if (state.doc) openDocument(state.doc); else closeDocument(false);
}

function renderStatus(result, state) {
  const status = $("#status");
  const noun = state.collapse ? ["story", "stories"] : ["result", "results"];
  const words = result.total === 1 ? `1 ${noun[0]}` : `${result.total.toLocaleString("en")} ${noun[1]}`;
  status.replaceChildren(result.total ? `${words} (${result.took_ms} ms)` : "No results.");
  if (result.suggestion && result.total) {
    const link = el("a", { href: "?" + toParams({ ...state, q: result.suggestion.q, page: 1, doc: "" }), className: "suggestion",
      textContent: result.suggestion.q });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      inputAt = performance.now();
      go({ ...state, q: result.suggestion.q, page: 1, doc: "" });
    });
    status.append(" Did you mean ", link, ` (${result.suggestion.total})?`);
  }
}

// The current search as a feed to follow and as a file of every result (not one page).
function renderTakeAway(state) {
  const query = toParams({ ...state, page: 1 }, false).toString();
  const suffix = query ? "?" + query : "";
  $("#follow").href = "/search.atom" + suffix;
  $("#export-csv").href = "/search.csv" + suffix;
  $("#take-away").hidden = false;
}

function renderFilters(state) {
  const chips = [];
  for (const [name, values] of Object.entries(state.filters)) {
    for (const value of values) {
      chips.push(chip(`${name}: ${value}`, () => {
        const filters = { ...state.filters, [name]: values.filter((v) => v !== value) };
        if (!filters[name].length) delete filters[name];
        return { ...state, filters, page: 1 };
      }));
    }
  }
  if (state.from || state.to) chips.push(chip(`dates: ${state.from || "…"} to ${state.to || "…"}`, () => ({ ...state, from: "", to: "", page: 1 })));
  $("#filters").replaceChildren(...chips);
  function chip(text, next) {
    const button = el("button", { type: "button", textContent: text + " ×", title: "Remove this filter" });
    button.addEventListener("click", () => { inputAt = performance.now(); go(next()); });
    return button;
  }
}

// Add a filter (a chip, a map mark), as ticking its facet box does.
function addFilter(name, value) {
  inputAt = performance.now();
  const current = readState();
  const values = current.filters[name] || [];
  if (values.includes(value)) return;
  go({ ...current, filters: { ...current.filters, [name]: [...values, value] }, page: 1, doc: "" });
}

function removeFilter(name, value) {
  inputAt = performance.now();
  const current = readState();
  const filters = { ...current.filters, [name]: (current.filters[name] || []).filter((v) => v !== value) };
  if (!filters[name].length) delete filters[name];
  go({ ...current, filters, page: 1, doc: "" });
}

function renderHits(result, state) {
  $("#legend").replaceChildren(...(result.hits.length ? [chipLegend()] : []));
  if (!result.total) {
    $("#results").replaceChildren(el("li", { className: "empty-item" }, [emptyState(result, state, {
      suggest: (q) => { inputAt = performance.now(); go({ ...readState(), q, page: 1, doc: "" }); },
      remove: removeFilter,
      clearDates: () => { inputAt = performance.now(); go({ ...readState(), from: "", to: "", page: 1, doc: "" }); },
    })]));
    return;
  }
  const items = result.hits.map((hit) => {
    const link = el("a", { className: "title", href: "?doc=" + encodeURIComponent(hit.id) });
    setHTML(link, hit.title_html || hit.title);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      go({ ...readState(), doc: hit.id });
    });
    const meta = el("p", { className: "meta", textContent: [hit.date || "undated", hit.source, hit.author].filter(Boolean).join(" · ") });
    if (hit.url && /^https?:\/\//i.test(hit.url)) {
      const own = el("a", { className: "source-link", href: hit.url, textContent: "original article ↗", rel: "noopener noreferrer", target: "_blank" });
      meta.append(" · ", own);
    }
    const snippets = ((hit.highlights && hit.highlights.body) || []).map((fragment) => {
      const p = el("p", { className: "snippet", dir: "auto" }); // Arabic reads right to left
      setHTML(p, "… " + fragment.html + " …");
      return p;
    });
    const item = el("li", { className: "hit" }, [el("h2", { dir: "auto" }, [link]), meta,
      tagChips(hit.tags, addFilter), ...snippets, ...storyOf(hit)]);
    item.dataset.id = hit.id;
    return item;
  });
  $("#results").replaceChildren(...items);
}

// "also in N outlets" under a hit whose report other articles copy; it opens the story's list.
function storyOf(hit) {
  const story = hit.story;
  if (!story || story.size < 2) return [];
  const copies = story.size - 1;
  let label = `${copies} more ${copies === 1 ? "copy" : "copies"} of this report`;
  if (story.others) {
    const outlets = new Set(story.others.map((o) => o.source).filter((s) => s && s !== hit.source));
    if (outlets.size) label = `also in ${outlets.size} ${outlets.size === 1 ? "outlet" : "outlets"}`;
  }
  const list = el("ol", { className: "story-members", hidden: true, ariaLabel: "The articles of this story" });
  const button = el("button", { type: "button", className: "story", textContent: label });
  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", async () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    list.hidden = !open;
    if (!open || list.childElementCount) return;
    try {
      const answer = await api(`/stories/${encodeURIComponent(story.id)}`, new URLSearchParams({ size: "50" }));
      list.replaceChildren(...answer.members.map((member) => {
        const link = el("a", { href: "?doc=" + encodeURIComponent(member.id), textContent: member.title || member.id, dir: "auto" });
        link.addEventListener("click", (event) => { event.preventDefault(); go({ ...readState(), doc: member.id }); });
        const differs = member.first ? "first" : `${Math.round((1 - member.jaccard) * 100)}% different`;
        const meta = [member.date || "undated", member.source, differs].filter(Boolean).join(" · ");
        const item = el("li", {}, [link, el("span", { className: "meta", textContent: ` ${meta}` })]);
        item.dataset.id = member.id;
        return item;
      }));
    } catch (error) {
      list.replaceChildren(el("li", { className: "meta", textContent: error.message }));
    }
  });
  return [button, list];
}

function renderFacets(result, state) {
  const sections = FACETS.map((name) => {
    const facet = result.facets[name] || { values: [], truncated: false };
    const list = el("ul", { role: "group", ariaLabel: name });
    fillFacet(list, name, facet.values, state);
    const filter = el("input", { type: "search", className: "facet-filter", placeholder: `Filter ${name}…`,
      ariaLabel: `Filter the ${name} values` });
    let timer;
    filter.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const params = apiParams(state);
        params.set("prefix", filter.value);
        params.set("size", "30");
        try {
          const answer = await api(`/facets/${name}`, params);
          fillFacet(list, name, answer.values, state);
        } catch (error) { /* the list keeps what it had */ }
      }, 150);
    });
    const section = el("section", { className: "facet" }, [el("h3", { textContent: name }), filter, list]);
    section.dataset.facet = name;
    return section;
  });
  $("#facets").replaceChildren(...sections);
}

function fillFacet(list, name, values, state) {
  const chosen = state.filters[name] || [];
  const shown = [...values];
  for (const value of chosen) if (!shown.some((v) => v.value === value)) shown.unshift({ value, count: 0 });
  list.replaceChildren(...shown.map(({ value, count }) => {
    const box = el("input", { type: "checkbox", value, checked: chosen.includes(value) });
    box.dataset.facet = name;
    box.addEventListener("change", () => {
      inputAt = performance.now();
      const current = readState();
      const values = new Set(current.filters[name] || []);
      box.checked ? values.add(value) : values.delete(value);
      const filters = { ...current.filters, [name]: [...values] };
      if (!values.size) delete filters[name];
      go({ ...current, filters, page: 1, doc: "" });
    });
    return el("li", {}, [el("label", {}, [box, el("span", { className: "name", textContent: value }),
      el("span", { className: "count", textContent: count.toLocaleString("en") })])]);
  }));
}

function renderHistogram(result, state) {
  renderTimeline($("#timeline"), result.histogram, state, (from, to) => {
    inputAt = performance.now();
    go({ ...readState(), from, to, page: 1, doc: "" });
  });
}

async function renderPlaces(geo, state) {
  try {
    await renderMap($("#map"), geo, state.filters.place || [], (place) => addFilter("place", place));
  } catch (error) {
    $("#map").hidden = true; // the results stand without the map
  }
}

function renderPager(result, state) {
  const pages = result.total ? result.pages || 0 : 0;
  $("#pager").hidden = pages <= 1; // one page or none: nothing to page through
  $("#page-info").textContent = pages ? `Page ${state.page} of ${pages}` : "";
  $("#prev").disabled = state.page <= 1;
  $("#next").disabled = state.page >= pages;
}

// --- one document ----------------------------------------------------------------------------

let openedFrom = null;

async function openDocument(id) {
  const view = $("#document");
  closeSuggestions();
  try {
    const doc = await api("/documents/" + encodeURIComponent(id));
    setHTML(view.querySelector(".doc-title"), doc.title_html || doc.title);
    view.querySelector(".doc-meta").textContent = [doc.date || "undated", doc.source, (doc.authors || []).join(", ")]
      .filter(Boolean).join(" · ");
    const tags = view.querySelector(".doc-tags");
    tags.replaceChildren();
    const spellings = doc.spellings || {};
    for (const [name, values] of Object.entries(doc.facets || {})) {
      if (!values.length) continue;
      const written = spellings[name] || {};
      const dd = el("dd", {}, values.map((value, i) => {
        const words = (written[value] || []).filter((w) => w !== value);
        const tag = el("span", { className: "doc-tag", textContent: value });
        if (words.length) tag.append(el("span", { className: "written", textContent: ` (written ${words.map((w) => `“${w}”`).join(", ")})` }));
        return i ? el("span", {}, ["; ", tag]) : tag;
      }));
      tags.append(el("dt", { textContent: name }), dd);
    }
    setHTML(view.querySelector(".doc-body"), doc.body_html || doc.body || "");
    view.hidden = false;
    if (!view.contains(document.activeElement)) { openedFrom = document.activeElement; view.focus(); }
    const similar = await api(`/documents/${encodeURIComponent(id)}/similar`, new URLSearchParams({ size: "5" }));
    $("#similar").replaceChildren(...similar.hits.map((hit) => {
      const link = el("a", { href: "?doc=" + encodeURIComponent(hit.id), textContent: hit.title });
      link.addEventListener("click", (event) => { event.preventDefault(); go({ ...readState(), doc: hit.id }); });
      return el("li", {}, [link, el("span", { className: "meta", textContent: ` ${hit.date || "undated"}` })]);
    }));
  } catch (error) {
    $("#error").textContent = error.message;
    $("#error").hidden = false;
  }
}

function closeDocument(navigate = true) {
  const view = $("#document");
  if (view.hidden) return;
  view.hidden = true;
  if (navigate) go({ ...readState(), doc: "" });
  if (openedFrom && document.contains(openedFrom)) openedFrom.focus();
}

// --- search box and autocomplete ------------------------------------------------------------

const box = $("#q");
const suggestions = $("#suggestions");
let searchTimer;
let suggestTimer;
let suggestGeneration = 0;

function closeSuggestions() {
  suggestions.hidden = true;
  suggestions.replaceChildren();
  box.setAttribute("aria-expanded", "false");
  box.removeAttribute("aria-activedescendant");
}

function searchNow(q, typed) {
  clearTimeout(searchTimer);
  const state = readState();
  if (q === state.q && !typed) return show(state);
  go({ ...state, q, page: 1, doc: "" }, { typed });
}

async function suggest(text) {
  const mine = ++suggestGeneration;
  if (text.trim().length < 2 || text.length > 100) return closeSuggestions();
  try {
    const answer = await api("/suggest", new URLSearchParams({ q: text, size: "8" }));
    if (mine !== suggestGeneration || box.value !== text || document.activeElement !== box) return;
    suggestions.replaceChildren(...answer.suggestions.map((s, i) => {
      const option = el("li", { role: "option", id: `suggestion-${i}` }, [
        el("span", { textContent: s.text }), el("span", { className: "kind", textContent: `${s.kind} · ${s.count}` })]);
      option.setAttribute("aria-selected", "false");
      option.addEventListener("mousedown", (event) => { event.preventDefault(); choose(s.text); });
      return option;
    }));
    const any = answer.suggestions.length > 0;
    suggestions.hidden = !any;
    box.setAttribute("aria-expanded", String(any));
  } catch (error) { closeSuggestions(); }
}

function choose(text) {
  const value = /\s/.test(text) ? `"${text}"` : text;
  box.value = value;
  closeSuggestions();
  inputAt = performance.now();
  searchNow(value, false);
}

box.addEventListener("input", () => {
  inputAt = performance.now();
  clearTimeout(searchTimer);
  clearTimeout(suggestTimer);
  const text = box.value;
  searchTimer = setTimeout(() => searchNow(text, true), 200);
  suggestTimer = setTimeout(() => suggest(text), 120);
});

box.addEventListener("keydown", (event) => {
  const options = [...suggestions.querySelectorAll("[role=option]")];
  const current = options.findIndex((o) => o.getAttribute("aria-selected") === "true");
  if ((event.key === "ArrowDown" || event.key === "ArrowUp") && options.length && !suggestions.hidden) {
    event.preventDefault();
    const next = event.key === "ArrowDown" ? (current + 1) % options.length : (current - 1 + options.length) % options.length;
    options.forEach((o, i) => o.setAttribute("aria-selected", String(i === next)));
    box.setAttribute("aria-activedescendant", options[next].id);
  } else if (event.key === "Enter") {
    event.preventDefault();
    if (current >= 0 && !suggestions.hidden) choose(options[current].firstChild.textContent);
    else { closeSuggestions(); inputAt = performance.now(); searchNow(box.value, false); }
  } else if (event.key === "Escape") {
    if (!suggestions.hidden) { event.preventDefault(); closeSuggestions(); }
  }
});
box.addEventListener("blur", () => setTimeout(closeSuggestions, 150));

$("#search-form").addEventListener("submit", (event) => event.preventDefault());
$("#sort").addEventListener("change", () => { inputAt = performance.now(); go({ ...readState(), sort: $("#sort").value, page: 1, doc: "" }); });
$("#one-per-story").addEventListener("change", () => {
  inputAt = performance.now();
  go({ ...readState(), collapse: $("#one-per-story").checked, page: 1, doc: "" });
});
$("#prev").addEventListener("click", () => { const s = readState(); go({ ...s, page: Math.max(1, s.page - 1), doc: "" }); });
$("#next").addEventListener("click", () => { const s = readState(); go({ ...s, page: s.page + 1, doc: "" }); });
$("#close-doc").addEventListener("click", () => closeDocument());
document.addEventListener("keydown", (event) => {
  // in the search box, Escape closes the suggestions first (its own handler)
  if (event.key === "Escape" && !$("#document").hidden && (event.target !== box || suggestions.hidden)) {
    closeSuggestions();
    closeDocument();
  }
});
window.addEventListener("popstate", () => { inputAt = performance.now(); show(readState()); });

history.replaceState({ typed: false, q: readState().q }, "", location.href);
show(readState());
