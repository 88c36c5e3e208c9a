// The timeline: a bar per period from the first to the last (the API gives the empty ones
// as 0), a labelled time axis, each bar's period and count shown on hover and focus and read
// by screen readers; click a bar for one period, drag (or Shift+click) across bars for a range.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MAX_MONTHS = 180; // more months than this and a bar is a year
const MONTH_LABELS = 24; // up to this many months, every month is labelled

const el = (tag, props = {}, children = []) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

function label(period) {
  if (period.length === 4) return period;
  return `${MONTHS[Number(period.slice(5, 7)) - 1]} ${period.slice(0, 4)}`;
}

// What a bar counts: articles, or stories when the page shows one hit per story.
let counted = ["article", "articles"];

function articles(count) {
  return count === 1 ? `1 ${counted[0]}` : `${count.toLocaleString("en")} ${counted[1]}`;
}

// The periods to draw: months unless there are too many to see.
export function timelinePeriods(histogram) {
  const months = (histogram && histogram.month) || [];
  if (months.length && months.length <= MAX_MONTHS) return { unit: "month", periods: months };
  return { unit: "year", periods: (histogram && histogram.year) || [] };
}

// Draws into `root` (a container with a .bars and an .axis child made here). `select(from, to)`
// is called with the chosen range; `state` gives the range already chosen, to mark it.
export function renderTimeline(root, histogram, state, select) {
  counted = state.collapse ? ["story", "stories"] : ["article", "articles"];
  const { unit, periods } = timelinePeriods(histogram);
  const top = Math.max(1, ...periods.map((p) => p.count));
  const inRange = (value) => (!state.from || value >= state.from.slice(0, value.length)) &&
    (!state.to || value <= state.to.slice(0, value.length));
  const chosen = Boolean(state.from || state.to);
  let anchor = null; // where a drag or a Shift+click range starts
  let dragging = false;

  const bars = periods.map(({ value, count }, index) => {
    const tip = el("span", { className: "tip", textContent: `${label(value)}: ${articles(count)}` });
    tip.setAttribute("aria-hidden", "true");
    const bar = el("button", { type: "button", className: "bar" + (count ? "" : " empty") }, [
      el("span", { className: "fill" }), tip]);
    bar.setAttribute("aria-label", `${label(value)}: ${articles(count)}`);
    bar.setAttribute("aria-pressed", String(chosen && inRange(value)));
    bar.dataset.period = value;
    bar.dataset.count = String(count);
    bar.dataset.index = String(index);
    bar.firstChild.style.height = count ? `${Math.max(4, Math.round((count / top) * 100))}%` : "0";
    return bar;
  });

  const pick = (a, b) => {
    const [first, last] = a <= b ? [a, b] : [b, a];
    select(periods[first].value, periods[last].value);
  };
  const mark = (a, b) => {
    const [first, last] = a <= b ? [a, b] : [b, a];
    bars.forEach((bar, i) => bar.classList.toggle("selecting", i >= first && i <= last));
  };
  bars.forEach((bar, index) => {
    bar.addEventListener("mousedown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault(); // no text selection while dragging
      bar.focus();
      if (event.shiftKey && anchor !== null) return; // the click ends a Shift range
      anchor = index;
      dragging = true;
      mark(index, index);
    });
    bar.addEventListener("mouseenter", () => { if (dragging) mark(anchor, index); });
    bar.addEventListener("mouseup", (event) => {
      if (!dragging && !(event.shiftKey && anchor !== null)) return;
      dragging = false;
      pick(anchor, index);
    });
    bar.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        if (event.shiftKey && anchor !== null) pick(anchor, index);
        else { anchor = index; pick(index, index); }
      } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        event.preventDefault();
        const next = bars[index + (event.key === "ArrowRight" ? 1 : -1)];
        if (next) next.focus();
      }
    });
  });
  root.addEventListener("mouseleave", () => { if (dragging) { dragging = false; mark(-1, -1); } }, { once: true });

  const axis = periods.map(({ value }, index) => {
    const month = value.length === 7 ? Number(value.slice(5, 7)) : 0;
    let text = "";
    if (unit === "year") text = value;
    else if (periods.length <= MONTH_LABELS) text = month === 1 || index === 0 ? label(value) : MONTHS[month - 1];
    else if (month === 1 || index === 0) text = value.slice(0, 4);
    const tick = el("span", { className: "tick" + (text ? " labelled" : ""), textContent: text });
    tick.style.left = `${((index + 0.5) / periods.length) * 100}%`;
    return tick;
  });

  root.querySelector(".bars").replaceChildren(...bars);
  root.querySelector(".axis").replaceChildren(...axis);
  root.hidden = periods.length === 0;
  const total = periods.reduce((sum, p) => sum + p.count, 0);
  root.querySelector(".caption").textContent = periods.length
    ? `${articles(total)} dated, by ${unit}, ${label(periods[0].value)} to ${label(periods[periods.length - 1].value)}. ` +
      "Click a bar for one period; drag across bars (or Shift+click) for a range."
    : "";
  root.dataset.unit = unit;
}
