/* The observation form's small map: a click writes the position field; a typed decimal position moves the pin. */
"use strict";
(function () {
  const el = document.getElementById("pick-map"), input = document.getElementById("position");
  const map = L.map(el, { minZoom: 2, maxZoom: 16 }).setView([30, 30], 2);
  map.attributionControl.setPrefix("").addAttribution("Natural Earth · GeoNames");
  window.accordBasemap(map);
  let pin = null;
  function place(lat, lon) {
    if (pin) pin.setLatLng([lat, lon]); else pin = L.circleMarker([lat, lon], { radius: 8, color: "#c0392b", fillOpacity: 0.8 }).addTo(map);
  }
  map.on("click", e => {
    input.value = e.latlng.lat.toFixed(5) + ", " + L.Util.wrapNum(e.latlng.lng, [-180, 180], true).toFixed(5);
    place(e.latlng.lat, e.latlng.lng);
  });
  input.addEventListener("change", () => {
    const m = input.value.match(/^\s*(-?\d+(?:\.\d+)?)\s*[,; ]\s*(-?\d+(?:\.\d+)?)\s*$/);
    if (m) { place(+m[1], +m[2]); map.setView([+m[1], +m[2]], 7); }
  });
  input.dispatchEvent(new Event("change"));
})();
