// The tags of a hit as chips styled by kind (faction, side, place, operation), each a button
// that filters by its value; "+N more" shows the rest instead of a silent cap.

export const CHIP_KINDS = [
  { facet: "side", label: "Side" },
  { facet: "faction", label: "Faction" },
  { facet: "operation", label: "Operation" },
  { facet: "place", label: "Place" },
];
const SHOWN = 8; // chips shown before "+N more"

const el = (tag, props = {}, children = []) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

// The list of chips of one hit; `filter(facet, value)` is called on a click.
export function tagChips(tags, filter) {
  const all = CHIP_KINDS.flatMap(({ facet, label }) =>
    (tags[facet] || []).map((value) => ({ facet, label, value })));
  const items = all.map(({ facet, label, value }, index) => {
    const button = el("button", { type: "button", className: `chip chip-${facet}`, textContent: value,
      title: `${label}: ${value}. Show only articles with it` });
    button.setAttribute("aria-label", `${label} ${value}: filter by it`);
    button.dataset.facet = facet;
    button.dataset.value = value;
    button.addEventListener("click", () => filter(facet, value));
    const item = el("li", {}, [button]);
    item.hidden = index >= SHOWN;
    return item;
  });
  const list = el("ul", { className: "tags" }, items);
  list.setAttribute("aria-label", "Tags: sides, factions, operations and places");
  if (all.length > SHOWN) {
    const more = el("button", { type: "button", className: "more", textContent: `+${all.length - SHOWN} more` });
    more.setAttribute("aria-label", `Show ${all.length - SHOWN} more tags`);
    more.addEventListener("click", () => {
      items.forEach((item) => { item.hidden = false; });
      more.parentElement.remove();
      items[SHOWN].querySelector("button").focus();
    });
    list.append(el("li", { className: "more-item" }, [more]));
  }
  return list;
}

// The legend of the chip colours, once above the hits.
export function chipLegend() {
  const legend = el("p", { className: "legend" }, [el("span", { className: "legend-title", textContent: "Tags:" })]);
  for (const { facet, label } of CHIP_KINDS) legend.append(el("span", { className: `chip chip-${facet}`, textContent: label }));
  legend.append(el("span", { className: "meta", textContent: " (click one to filter)" }));
  return legend;
}
