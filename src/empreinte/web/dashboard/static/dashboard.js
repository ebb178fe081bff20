// empreinte dashboard: draws charts, sorts and pages tables, copies snippets, submits filters,
// and fetches live fragments. No framework; served from the package (no CDN).
"use strict";

(function () {
  const LANG = document.body.dataset.language || "en";
  const SEPARATORS = document.body.dataset.separators || ".,";
  const T = {
    en: { prev: "Previous", next: "Next", page: "Page {p} of {n}", copied: "Copied" },
    fr: { prev: "Précédente", next: "Suivante", page: "Page {p} sur {n}", copied: "Copié" },
  }[LANG] || {};

  const FRENCH = {
    moduleType: "locale",
    name: "fr",
    dictionary: {},
    format: {
      days: ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
      shortDays: ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
      months: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
        "septembre", "octobre", "novembre", "décembre"],
      shortMonths: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
        "sept.", "oct.", "nov.", "déc."],
      date: "%d/%m/%Y",
      decimal: ",",
      thousands: "\u202f",
    },
  };

  // -- charts ---------------------------------------------------------------------------
  function drawCharts(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("div.chart").forEach(function (el) {
      if (el.dataset.drawn) return;
      const source = document.getElementById(el.id + "-figure");
      if (!source) return;
      const figure = JSON.parse(source.textContent);
      const layout = Object.assign(
        {
          separators: SEPARATORS,
          height: Number(el.dataset.height) || 360,
          margin: { t: 16, r: 16, b: 48, l: 56 },
          legend: { orientation: "h", y: -0.2 },
          font: { family: "system-ui, sans-serif", size: 12 },
          paper_bgcolor: "rgba(0,0,0,0)",
          plot_bgcolor: "rgba(0,0,0,0)",
        },
        figure.layout || {}
      );
      window.Plotly.newPlot(el, figure.data || [], layout, {
        displaylogo: false,
        responsive: true,
        locale: LANG,
        modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"],
      });
      el.dataset.drawn = "1";
    });
  }

  function downloadPng(button) {
    const el = document.getElementById(button.dataset.chart);
    if (!el || !window.Plotly) return;
    window.Plotly.downloadImage(el, {
      format: "png",
      filename: button.dataset.chart,
      width: Math.max(el.clientWidth, 800),
      height: Number(el.dataset.height) || 360,
    });
  }

  // -- tables: sort by a column, show one page at a time ------------------------------------
  function sortValue(cell, numeric) {
    const raw = cell.dataset.sort;
    if (numeric) {
      const n = parseFloat(raw);
      return isNaN(n) ? -Infinity : n;
    }
    return (raw || "").toLocaleLowerCase(LANG);
  }

  function setupTable(table) {
    const body = table.tBodies[0];
    const size = Number(table.dataset.pageSize) || 20;
    let page = 0;
    const pager = document.createElement("nav");
    pager.className = "pager";
    pager.setAttribute("aria-label", T.page ? T.page.replace("{p}", "").replace("{n}", "") : "pages");
    table.parentNode.after(pager);

    function show() {
      const rows = Array.from(body.rows);
      const pages = Math.max(1, Math.ceil(rows.length / size));
      page = Math.min(page, pages - 1);
      rows.forEach(function (row, i) {
        row.hidden = Math.floor(i / size) !== page;
      });
      pager.hidden = pages <= 1;
      pager.innerHTML = "";
      const prev = document.createElement("button");
      prev.type = "button";
      prev.textContent = "‹ " + T.prev;
      prev.disabled = page === 0;
      prev.onclick = function () { page -= 1; show(); };
      const label = document.createElement("span");
      label.textContent = T.page.replace("{p}", page + 1).replace("{n}", pages);
      const next = document.createElement("button");
      next.type = "button";
      next.textContent = T.next + " ›";
      next.disabled = page >= pages - 1;
      next.onclick = function () { page += 1; show(); };
      pager.append(prev, label, next);
    }

    table.querySelectorAll("thead th").forEach(function (th, index) {
      const button = th.querySelector("button.sort");
      if (!button) return;
      button.addEventListener("click", function () {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("thead th").forEach(function (other) {
          other.setAttribute("aria-sort", "none");
        });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const numeric = /\b(number|percent)\b/.test(th.className);
        const rows = Array.from(body.rows);
        rows.sort(function (a, b) {
          const x = sortValue(a.cells[index], numeric);
          const y = sortValue(b.cells[index], numeric);
          const order = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
        page = 0;
        show();
      });
    });
    show();
  }

  // -- small things ---------------------------------------------------------------------------
  function copy(button) {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    const done = function () {
      const before = button.textContent;
      button.textContent = T.copied;
      setTimeout(function () { button.textContent = before; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent).then(done);
    } else {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      document.execCommand("copy");
      done();
    }
  }

  // A live fragment: <input data-live="/segments/size" data-target="id"> asks the server,
  // 300 ms after typing stops, for the HTML to show in #id (a GET: nothing changes).
  function setupLive(input) {
    let timer = null;
    let counter = 0;
    const target = document.getElementById(input.dataset.target);
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        const mine = ++counter;
        const form = input.form ? new FormData(input.form) : new FormData();
        if (!input.form) form.set(input.name, input.value);
        form.delete("csrf"); // a GET: the form's token must not travel in an address
        const url = input.dataset.live + "?" + new URLSearchParams(form).toString();
        fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            if (mine === counter && target) target.innerHTML = html;
          });
      }, 300);
    });
  }

  document.addEventListener("click", function (event) {
    const png = event.target.closest("button.png");
    if (png) downloadPng(png);
    const copier = event.target.closest("button.copy");
    if (copier) copy(copier);
  });

  document.addEventListener("change", function (event) {
    const field = event.target.closest("[data-autosubmit]");
    if (field && field.form) field.form.requestSubmit();
  });

  window.addEventListener("DOMContentLoaded", function () {
    if (window.Plotly) window.Plotly.register(FRENCH);
    document.querySelectorAll("table.data").forEach(setupTable);
    document.querySelectorAll("[data-live]").forEach(setupLive);
    drawCharts(document);
    // Charts inside closed <details> are drawn when opened (Plotly needs a size).
    document.querySelectorAll("details").forEach(function (d) {
      d.addEventListener("toggle", function () { if (d.open) drawCharts(d); });
    });
  });

  window.empreinte = { drawCharts: drawCharts };
})();
