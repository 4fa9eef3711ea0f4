/* The observations map: clustered markers coloured by originator; filters by member, tag, observed time
   (two sliders), and a drawn rectangle or polygon. Points come from /map/data.json, which reads through the
   Items service, so the map only ever receives what the reader may see. */
"use strict";
(function () {
  const el = document.getElementById("map");
  const colours = JSON.parse(el.dataset.colours);
  const map = L.map(el, { worldCopyJump: true, attributionControl: true, minZoom: 2, maxZoom: 16 }).setView([30, 30], 3);
  map.attributionControl.setPrefix("").addAttribution("Natural Earth · GeoNames");
  window.accordBasemap(map);
  window.accordMap = map;
  const cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 45 });
  map.addLayer(cluster);
  let points = [], area = null, drawing = null;
  const fromEl = document.getElementById("f-from"), toEl = document.getElementById("f-to");
  let tMin = 0, tMax = 0;

  function esc(s) { return String(s).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]); }
  function fmt(ms) { return new Date(ms).toISOString().slice(0, 10); }
  function sliderTime(el) { return tMin + (tMax - tMin) * el.value / 100; }

  function inside(lat, lon, poly) {
    let c = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const a = poly[i], b = poly[j];
      if ((a.lat > lat) !== (b.lat > lat) && lon < (b.lng - a.lng) * (lat - a.lat) / (b.lat - a.lat) + a.lng) c = !c;
    }
    return c;
  }

  function render() {
    const members = new Set([...document.querySelectorAll(".f-member:checked")].map(x => x.value));
    const tag = document.getElementById("f-tag").value.trim().toLowerCase();
    const from = sliderTime(fromEl), to = sliderTime(toEl);
    document.getElementById("f-from-out").textContent = tMax ? fmt(from) : "";
    document.getElementById("f-to-out").textContent = tMax ? fmt(to) : "";
    cluster.clearLayers();
    const shown = [];
    for (const p of points) {
      if (!members.has(p.m)) continue;
      if (tag && !p.tags.some(t => t.toLowerCase() === tag)) continue;
      if (p.ms < from - 1 || p.ms > to + 1) continue;
      if (area && !inside(p.lat, p.lon, area)) continue;
      const m = L.circleMarker([p.lat, p.lon], { radius: 7, color: "#222", weight: 1, fillColor: colours[p.m] || "#777", fillOpacity: 0.9 });
      m.bindPopup(`<b dir="auto">${esc(p.title)}</b><br>${esc(p.m)} · TLP:${esc(p.tlp.toUpperCase())} · ${esc(p.t.slice(0, 16).replace("T", " "))}<br><a href="/item/${esc(p.id)}">${esc(el.dataset.open)}</a>`);
      m.options.itemId = p.id;
      shown.push(m);
    }
    cluster.addLayers(shown);
    document.getElementById("map-count").textContent = el.dataset.shown.replace("{n}", shown.length).replace("{total}", points.length);
  }

  fetch("/map/data.json", { credentials: "same-origin" }).then(r => r.json()).then(data => {
    points = data.points.map(p => Object.assign(p, { ms: Date.parse(p.t) }));
    if (points.length) {
      tMin = Math.min(...points.map(p => p.ms)); tMax = Math.max(...points.map(p => p.ms));
    }
    render();
    el.dataset.loaded = "1";
    const hash = location.hash.slice(1).split(",").map(Number);
    if (hash.length === 2 && !hash.some(isNaN)) map.setView(hash, 9);
    else if (points.length) map.fitBounds(L.latLngBounds(points.map(p => [p.lat, p.lon])).pad(0.3), { maxZoom: 8 });
  });

  document.querySelectorAll(".f-member").forEach(x => x.addEventListener("change", render));
  document.getElementById("f-tag").addEventListener("input", render);
  [fromEl, toEl].forEach(x => x.addEventListener("input", () => {
    if (+fromEl.value > +toEl.value) { if (x === fromEl) toEl.value = fromEl.value; else fromEl.value = toEl.value; }
    render();
  }));

  // Drawing: a rectangle by press-drag-release, a polygon by clicks closed with a double-click.
  let shape = null;
  function clearShape() { if (shape) map.removeLayer(shape); shape = null; area = null; }
  function stopDrawing() { drawing = null; map.dragging.enable(); map.doubleClickZoom.enable(); el.classList.remove("drawing"); document.getElementById("draw-help").hidden = true; }
  document.getElementById("draw-rect").addEventListener("click", () => { clearShape(); drawing = { kind: "rect" }; map.dragging.disable(); el.classList.add("drawing"); });
  document.getElementById("draw-poly").addEventListener("click", () => { clearShape(); drawing = { kind: "poly", pts: [] }; map.doubleClickZoom.disable(); el.classList.add("drawing"); document.getElementById("draw-help").hidden = false; });
  document.getElementById("draw-clear").addEventListener("click", () => { clearShape(); stopDrawing(); render(); });
  map.on("mousedown", e => { if (drawing && drawing.kind === "rect") { drawing.start = e.latlng; } });
  map.on("mousemove", e => {
    if (drawing && drawing.kind === "rect" && drawing.start) {
      if (shape) map.removeLayer(shape);
      shape = L.rectangle(L.latLngBounds(drawing.start, e.latlng), { color: "#c0392b", weight: 2, fillOpacity: 0.08 }).addTo(map);
    }
  });
  map.on("mouseup", e => {
    if (drawing && drawing.kind === "rect" && drawing.start) {
      const b = L.latLngBounds(drawing.start, e.latlng);
      area = [b.getSouthWest(), b.getNorthWest(), b.getNorthEast(), b.getSouthEast()];
      stopDrawing(); render();
    }
  });
  map.on("click", e => {
    if (drawing && drawing.kind === "poly") {
      drawing.pts.push(e.latlng);
      if (shape) map.removeLayer(shape);
      shape = L.polygon(drawing.pts, { color: "#c0392b", weight: 2, fillOpacity: 0.08 }).addTo(map);
    }
  });
  map.on("dblclick", () => {
    if (drawing && drawing.kind === "poly" && drawing.pts.length >= 3) { area = drawing.pts.slice(); stopDrawing(); render(); }
  });
})();
