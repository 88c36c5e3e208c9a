// The map: Syria, Iraq and their neighbours (Natural Earth outlines in /static/outlines.json,
// drawn here: nothing comes from another site) with a mark per place of the matching
// articles (GET /geo), its area by count. A mark is a keyboard-reachable button: Enter,
// Space or a click filters by the place. The place facet beside it is the text equivalent.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const MAX_RADIUS = 22;
const MIN_RADIUS = 3;
let outlines = null; // fetched once

const svg = (tag, attributes = {}) => {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
};

async function loadOutlines() {
  if (!outlines) {
    const response = await fetch("/static/outlines.json");
    if (!response.ok) throw new Error(`the map outlines answered ${response.status}`);
    outlines = await response.json();
  }
  return outlines;
}

// Equirectangular, with longitudes shrunk by the cosine of the middle latitude: at this
// size and latitude, close enough to a conformal map and simple to invert.
function projection(view) {
  const [west, south, east, north] = view;
  const shrink = Math.cos((((south + north) / 2) * Math.PI) / 180);
  const scale = WIDTH / ((east - west) * shrink);
  const height = Math.round((north - south) * scale);
  return { width: WIDTH, height, point: ([lon, lat]) => [(lon - west) * shrink * scale, (north - lat) * scale] };
}

function path(rings, project) {
  return rings.map((ring) => "M" + ring.map((p) => project.point(p).map((v) => v.toFixed(1)).join(",")).join("L") + "Z").join("");
}

function articles(count) {
  return count === 1 ? "1 article" : `${count.toLocaleString("en")} articles`;
}

// Draws the map of `geo` (the /geo answer) into `root`; `choose(place)` filters by a place.
export async function renderMap(root, geo, chosen, choose) {
  const data = await loadOutlines();
  const project = projection(data.view);
  const map = svg("svg", { viewBox: `0 0 ${project.width} ${project.height}`, class: "map-svg" });
  map.setAttribute("aria-labelledby", "map-title");
  const land = svg("g", { class: "land" });
  for (const country of data.countries) {
    const shape = svg("path", { d: path(country.rings, project), class: "country" });
    shape.dataset.country = country.name;
    land.append(shape);
  }
  for (const province of data.provinces) {
    const shape = svg("path", { d: path(province.rings, project), class: "province" });
    shape.dataset.province = province.province || province.name;
    land.append(shape);
  }
  land.setAttribute("aria-hidden", "true");
  const labels = svg("g", { class: "labels", "aria-hidden": "true" });
  for (const [name, lonlat] of [["SYRIA", [38.6, 35.2]], ["IRAQ", [43.4, 33.2]], ["TURKEY", [38.0, 38.1]]]) {
    const [x, y] = project.point(lonlat);
    const text = svg("text", { x, y, class: "country-label" });
    text.textContent = name;
    labels.append(text);
  }

  const features = geo.features || [];
  const top = Math.max(1, ...features.map((f) => f.properties.count));
  const marks = svg("g", { class: "marks" });
  // biggest first, so small marks stay on top and clickable
  for (const feature of [...features].sort((a, b) => b.properties.count - a.properties.count)) {
    const { place, count, kind } = feature.properties;
    const [x, y] = project.point(feature.geometry.coordinates);
    const radius = Math.max(MIN_RADIUS, Math.sqrt(count / top) * MAX_RADIUS);
    const mark = svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: radius.toFixed(1),
      class: "mark" + (kind === "governorate" ? " governorate" : "") + (chosen.includes(place) ? " chosen" : ""),
      tabindex: 0, role: "button" });
    mark.setAttribute("aria-label", `${place}: ${articles(count)}; show only these`);
    mark.dataset.place = place;
    mark.dataset.count = String(count);
    const title = svg("title");
    title.textContent = `${place}: ${articles(count)}`;
    mark.append(title);
    mark.addEventListener("click", () => choose(place));
    mark.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); choose(place); }
    });
    marks.append(mark);
  }
  map.append(land, labels, marks);
  root.querySelector(".map-canvas").replaceChildren(map);
  const missing = (geo.unlocated || []).length;
  root.querySelector(".map-caption").textContent = features.length
    ? `${features.length} of ${geo.places} places on the map` +
      (missing ? ` (${missing} without a known location); ` : "; ") +
      "a mark's area grows with its articles. Click one to filter; the place filter lists them all."
    : "No place of these articles is on the map.";
  root.hidden = false;
}
