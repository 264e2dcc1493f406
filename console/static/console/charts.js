/* Gatehouse console: the charts, drawn with uPlot (vendored beside this file, see
   uPlot.LICENSE). A chart is a <div data-chart="market|stacked" data-chart-source="ID">
   whose figures are the <script type="application/json" id="ID"> block the server wrote
   (never executed, so the Content-Security-Policy lets it stand). The table beside each
   chart (<details data-chart-table open>) is what a browser without script shows; once the
   chart is drawn it folds away but stays there to read.

   Prices arrive as strings written at the instrument's tick by the server, as every other
   page writes them: the hover shows those strings, and Number() is used only to place a
   point on the canvas. Times are UTC, as everywhere in the console. */
(function () {
  "use strict";

  if (typeof uPlot === "undefined") return; // the tables stand in

  var PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"];
  var STATE_COLOURS = {
    open: "#0f6b2f", limit_state: "#8a4b00", paused: "#8a4b00", halted: "#a10000", close_only: "#5b2c83"
  };
  var STATE_WASH = {
    limit_state: "rgba(230, 159, 0, 0.12)", paused: "rgba(230, 159, 0, 0.18)",
    halted: "rgba(161, 0, 0, 0.12)", close_only: "rgba(91, 44, 131, 0.10)"
  };

  function iso(seconds) {
    return new Date(Math.round(seconds * 1000)).toISOString().replace(".000Z", "Z");
  }

  function utcDate(seconds) {
    return uPlot.tzDate(new Date(seconds * 1e3), "Etc/UTC");
  }

  function timeAxisSpace(u) {
    var span = u.scales.x.max - u.scales.x.min;
    return span > 36 * 3600 ? 96 : 56; // room for "MM-DD HH:MM" or "HH:MM"
  }

  function timeAxisValues(u, splits) {
    var span = u.scales.x.max - u.scales.x.min;
    return splits.map(function (ts) {
      if (ts == null) return "";
      var text = iso(ts);
      if (span > 36 * 3600) return text.slice(5, 10) + " " + text.slice(11, 16);
      return span > 600 ? text.slice(11, 16) : text.slice(11, 19);
    });
  }

  function stepIncrements(step) {
    var incrs = [];
    for (var power = 0; power < 16; power++) {
      [1, 2, 5].forEach(function (m) { incrs.push(step * m * Math.pow(10, power)); });
    }
    return incrs;
  }

  function labelWidth(u, values) {
    var longest = (values || []).reduce(function (n, v) { return Math.max(n, String(v).length); }, 4);
    return 18 + 7.5 * longest;
  }

  function numbers(strings) {
    return strings.map(function (s) { return s == null ? null : Number(s); });
  }

  function shownAs(strings) {
    return function (u, value, seriesIdx, idx) {
      return idx == null || strings[idx] == null ? "—" : strings[idx];
    };
  }

  /* Pad the figures with empty points at the window's edges, so the time axis spans the
     whole window (a halt after the last sample is still on the chart) and double-click
     zooms back out to it. A line's padding is null (a gap); a bar's is undefined, which
     uPlot leaves out when it measures the width of a bar from the spacing of the points. */
  function padToWindow(data, columns, empty) {
    var t = data.t.slice();
    var padded = columns.map(function (c) { return c.slice(); });
    if (!t.length || t[0] > data.window.start) {
      t.unshift(data.window.start);
      padded.forEach(function (c) { c.unshift(empty); });
    }
    if (t[t.length - 1] < data.window.end) {
      t.push(data.window.end);
      padded.forEach(function (c) { c.push(empty); });
    }
    return [t].concat(padded);
  }

  function readout(element) {
    var section = element.closest("section") || element.parentNode;
    var out = section.querySelector("[data-chart-readout]");
    if (out) out.hidden = false;
    return out;
  }

  function noteWindow(element) {
    return function (u, key) {
      if (key !== "x" || u.scales.x.min == null) return;
      element.setAttribute("data-x-min", iso(u.scales.x.min));
      element.setAttribute("data-x-max", iso(u.scales.x.max));
    };
  }

  function stateAt(events, t) {
    var found = null;
    for (var i = 0; i < events.length && events[i].t <= t; i++) found = events[i];
    return found;
  }

  /* State changes: a dashed line at each, labelled with the state entered, and the time
     spent outside "open" washed in that state's colour. */
  function drawEvents(events, windowEnd) {
    return function (u) {
      if (!events.length) return;
      var ctx = u.ctx, box = u.bbox, ratio = uPlot.pxRatio;
      var min = u.scales.x.min, max = u.scales.x.max;
      ctx.save();
      ctx.beginPath();
      ctx.rect(box.left, box.top, box.width, box.height);
      ctx.clip();
      events.forEach(function (event, i) {
        var end = i + 1 < events.length ? events[i + 1].t : windowEnd;
        var wash = STATE_WASH[event.to];
        if (wash && end >= min && event.t <= max) {
          var x0 = u.valToPos(Math.max(event.t, min), "x", true);
          var x1 = u.valToPos(Math.min(end, max), "x", true);
          ctx.fillStyle = wash;
          ctx.fillRect(x0, box.top, Math.max(x1 - x0, ratio), box.height);
        }
      });
      ctx.font = 11 * ratio + "px system-ui, sans-serif";
      ctx.lineWidth = 1.5 * ratio;
      ctx.setLineDash([5 * ratio, 3 * ratio]);
      var rowEnds = []; // where the last label of each row of labels ends
      events.forEach(function (event) {
        if (event.t < min || event.t > max) return;
        var x = Math.round(u.valToPos(event.t, "x", true));
        var colour = STATE_COLOURS[event.to] || "#333333";
        ctx.strokeStyle = colour;
        ctx.beginPath();
        ctx.moveTo(x, box.top);
        ctx.lineTo(x, box.top + box.height);
        ctx.stroke();
        var width = ctx.measureText(event.to).width;
        var left = x + 3 * ratio;
        if (left + width > box.left + box.width) left = x - 3 * ratio - width; // keep it inside
        var row = 0;
        while (row < rowEnds.length && rowEnds[row] > left) row++;
        rowEnds[row] = left + width + 4 * ratio;
        ctx.fillStyle = colour;
        ctx.fillText(event.to, left, box.top + (12 + 12 * row) * ratio);
      });
      ctx.restore();
    };
  }

  function marketChart(element, data) {
    var out = readout(element);
    var help = "Point at the chart for the figures; drag across it to zoom in, double-click to zoom out. Times are UTC.";
    if (out) out.textContent = help;
    var columns = padToWindow(data, [data.band_lower, data.band_upper, data.reference, data.book, data.state], null);
    var t = columns[0], lower = columns[1], upper = columns[2], reference = columns[3], book = columns[4], state = columns[5];
    var step = Number(data.tick);
    var opts = {
      width: Math.max(element.clientWidth, 320),
      height: 320,
      tzDate: utcDate,
      cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 7 } },
      scales: { x: { time: true } },
      legend: { live: true },
      series: [
        { label: "UTC", value: function (u, ts) { return ts == null ? "—" : iso(ts); } },
        { label: "band lower", stroke: "#5a8fbf", width: 1, dash: [4, 4], value: shownAs(lower) },
        { label: "band upper", stroke: "#5a8fbf", width: 1, dash: [4, 4], value: shownAs(upper) },
        { label: "reference", stroke: "#12355b", width: 2, value: shownAs(reference) },
        { label: "book price", stroke: "#d55e00", width: 1.5, value: shownAs(book) }
      ],
      bands: [{ series: [2, 1], fill: "rgba(90, 143, 191, 0.16)" }],
      axes: [
        { space: timeAxisSpace, values: timeAxisValues },
        {
          size: labelWidth,
          incrs: stepIncrements(step),
          values: function (u, splits) {
            return splits.map(function (v) { return v.toFixed(data.places); });
          }
        }
      ],
      hooks: {
        draw: [drawEvents(data.events, data.window.end)],
        setScale: [noteWindow(element)],
        setCursor: [function (u) {
          if (!out) return;
          var idx = u.cursor.idx;
          if (idx == null) { out.textContent = help; return; }
          var at = u.data[0][idx], change = stateAt(data.events, at);
          var text = iso(at) + " · state " + (state[idx] || (change ? change.to : "—"));
          if (change) text += " · last change " + change.from + " → " + change.to + " at " + change.at + " (" + change.reason + ")";
          out.textContent = text;
        }]
      }
    };
    return new uPlot(opts, [t, numbers(lower), numbers(upper), numbers(reference), numbers(book)], element);
  }

  function stackedChart(element, data) {
    var out = readout(element);
    var help = "Point at a bar for its counts. Times are UTC.";
    if (out) out.textContent = help;
    var series = data.series.length ? data.series : [{ label: data.unit, counts: data.totals }];
    var stacked = [], running = data.totals.map(function (total) { return total == null ? null : 0; });
    series.forEach(function (one) {
      running = running.map(function (sum, i) {
        var n = one.counts[i];
        return sum == null || n == null ? null : sum + n;
      });
      stacked.push(running);
    });
    var half = data.step / 2;
    var columns = padToWindow(data, stacked.concat([data.totals]), undefined);
    var totals = columns.pop();
    var counts = series.map(function (one) { return padToWindow(data, [one.counts], undefined)[1]; });
    var bars = uPlot.paths.bars({ size: [0.86, 64], align: 0 });
    var seriesOpts = [{
      label: "UTC",
      value: function (u, ts) {
        if (ts == null) return "—";
        var from = iso(ts - half), to = iso(ts + half);
        return data.step >= 86400 ? from.slice(0, 10) : from.slice(11, 16) + "–" + to.slice(11, 16);
      }
    }];
    var arrays = [columns[0]];
    // the top of the stack is drawn first, each lower part over it
    for (var k = series.length - 1; k >= 0; k--) {
      arrays.push(columns[k + 1]);
      seriesOpts.push({
        label: series[k].label,
        stroke: PALETTE[k % PALETTE.length],
        fill: PALETTE[k % PALETTE.length],
        width: 0,
        paths: bars,
        points: { show: false },
        value: (function (own) {
          return function (u, v, si, idx) {
            return idx == null || own[idx] == null ? "—" : String(own[idx]);
          };
        })(counts[k])
      });
    }
    var opts = {
      width: Math.max(element.clientWidth, 320),
      height: 240,
      tzDate: utcDate,
      cursor: { y: false, drag: { x: false, y: false }, points: { show: false } },
      scales: {
        x: { time: true },
        y: { range: function (u, min, max) { return [0, Math.max(Math.ceil((max || 0) * 1.1), 1)]; } }
      },
      legend: { live: true },
      series: seriesOpts,
      axes: [
        data.step >= 86400
          ? { // one label per day, under its bar
            splits: function () { return data.t; },
            values: function (u, splits) { return splits.map(function (ts) { return iso(ts).slice(5, 10); }); }
          }
          : { space: timeAxisSpace, values: timeAxisValues },
        {
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000],
          values: function (u, splits) { return splits.map(function (v) { return v.toFixed(0); }); }
        }
      ],
      hooks: {
        setScale: [noteWindow(element)],
        setCursor: [function (u) {
          if (!out) return;
          var idx = u.cursor.idx;
          if (idx == null || totals[idx] == null) { out.textContent = help; return; }
          out.textContent = seriesOpts[0].value(u, u.data[0][idx]) + " UTC · " + totals[idx] + " " + data.unit;
        }]
      }
    };
    return new uPlot(opts, arrays, element);
  }

  var DRAW = { market: marketChart, stacked: stackedChart };

  /* Each chart of the page, once. The figures are read from the page as it came from the
     server: an htmx swap would drop the JSON block (the console's htmx never keeps a
     script tag), so the market chart's window buttons are plain links. */
  function drawAll() {
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var draw = DRAW[element.getAttribute("data-chart")];
      var source = document.getElementById(element.getAttribute("data-chart-source"));
      if (!draw || !source) return;
      element.hidden = false; // hidden in the page, so a browser without script shows no empty frame
      var plot = draw(element, JSON.parse(source.textContent));
      element.setAttribute("data-chart-drawn", "true");
      var section = element.closest("section") || element.parentNode;
      section.querySelectorAll("details[data-chart-table]").forEach(function (table) { table.open = false; });
      if (typeof ResizeObserver !== "undefined") {
        new ResizeObserver(function () {
          var width = Math.max(element.clientWidth, 320);
          if (Math.abs(width - plot.width) > 2) plot.setSize({ width: width, height: plot.height });
        }).observe(element);
      }
    });
  }

  drawAll();
})();
