// The dashboard page: fetches the table and charts, and refreshes them when the server's event
// stream says new bars landed (no reload). Charts: TradingView's lightweight-charts (standalone build).
(function () {
  'use strict';
  const LW = window.LightweightCharts;
  const $ = (id) => document.getElementById(id);

  /** For tests and the curious: what the page did since it loaded. */
  const state = {
    loadedAt: new Date().toISOString(),
    events: 0,
    refreshes: 0,
    lastEvent: null,
    selected: null,
    overview: null,
  };
  window.dashboard = state;

  // ---------- formatting ----------
  const CAIRO = 'Africa/Cairo';
  const fmtTime = new Intl.DateTimeFormat('en-GB', { timeZone: CAIRO, hour: '2-digit', minute: '2-digit' });
  const fmtDay = new Intl.DateTimeFormat('en-GB', {
    timeZone: CAIRO,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
  });
  const fmtDateTime = new Intl.DateTimeFormat('en-GB', {
    timeZone: CAIRO,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
  const fmtClock = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const num = (v, digits = 2) =>
    v === null || v === undefined
      ? '–'
      : Number(v).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const price = (v) => (v === null || v === undefined ? '–' : num(v, v < 1 ? 3 : 2));
  const compact = (v) => {
    if (v === null || v === undefined) return '–';
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2) + 'B';
    if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'K';
    return String(Math.round(v));
  };
  const esc = (s) =>
    String(s).replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  const dayOf = (date) => fmtDay.format(new Date(date + 'T12:00:00Z'));
  const el = (tag, attrs, html) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (html !== undefined) e.innerHTML = html;
    return e;
  };

  async function getJson(url) {
    const res = await fetch(url, { cache: 'no-store' });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.status + ' ' + res.statusText);
    return body;
  }

  function showError(message) {
    const box = $('error');
    box.hidden = !message;
    box.textContent = message || '';
  }

  // ---------- header, market and banner ----------
  function renderHeader(o) {
    const m = o.market;
    const pill = $('market');
    pill.dataset.open = String(m.open);
    const next = m.open
      ? 'closes ' + fmtTime.format(new Date(m.session.close))
      : 'next session ' + fmtDateTime.format(new Date(m.session.open));
    pill.innerHTML =
      '<b>' +
      (m.open ? 'OPEN' : 'CLOSED') +
      '</b>' +
      esc(m.reason.replace(/^(open|closed): ?/, '')) +
      ' · ' +
      esc(next);

    const mode = $('mode');
    mode.dataset.mode = o.view.mode;
    mode.textContent =
      o.view.mode === 'demo'
        ? 'DEMO REPLAY' + (o.view.demo && o.view.demo.speed ? ' ' + o.view.demo.speed + '×' : '')
        : o.view.mode === 'live'
          ? 'LIVE'
          : 'HISTORY';
    mode.title = o.view.note;

    const banner = $('banner');
    banner.hidden = o.view.mode !== 'demo';
    banner.textContent = o.view.mode === 'demo' ? o.view.note : '';

    $('updated').textContent = 'updated ' + fmtClock.format(new Date(o.generatedAt));

    const facts = [
      ['Now', m.open ? 'open' : 'closed'],
      ['Why', m.reason.replace(/^(open|closed): /, '')],
      [
        m.open ? 'Session' : 'Next session',
        dayOf(m.session.date) +
          ', ' +
          fmtTime.format(new Date(m.session.open)) +
          '–' +
          fmtTime.format(new Date(m.session.close)) +
          ' Cairo',
      ],
      ['Data', o.view.label],
      [
        'Gold up to',
        o.goldDate ? dayOf(o.goldDate) + ' (' + o.goldDate + ')' : 'no gold yet: run the daily batch',
      ],
      ['Sources', o.view.sources.length ? o.view.sources.join(', ') : '–'],
    ];
    $('market-detail').innerHTML = facts
      .map(([k, v]) => '<dt>' + esc(k) + '</dt><dd>' + esc(v) + '</dd>')
      .join('');
  }

  // ---------- table ----------
  const previous = new Map();
  function signalTags(s) {
    const out = [];
    if (s.trend)
      out.push(
        '<span class="tag ' +
          (s.trend === 'BULLISH' ? 'bull' : s.trend === 'BEARISH' ? 'bear' : '') +
          '">' +
          esc(s.trend) +
          '</span>',
      );
    if (s.volume && s.volume !== 'NORMAL')
      out.push(
        '<span class="tag ' +
          (s.volume === 'HIGH' ? 'vol-high' : 'vol-low') +
          '">VOL ' +
          esc(s.volume) +
          '</span>',
      );
    if (s.cross)
      out.push(
        '<span class="tag ' + (/golden/i.test(s.cross) ? 'bull' : 'bear') + '">' + esc(s.cross) + '</span>',
      );
    return out.join('') || '<span class="muted">–</span>';
  }

  function renderTable(o) {
    const body = document.querySelector('#quotes tbody');
    const hasAnomalyMart = o.anomalyMarts.length > 0;
    $('anomaly-head').title = hasAnomalyMart
      ? 'flags from ' + o.anomalyMarts.join(', ')
      : 'no anomaly mart in GOLD yet: flags appear here once one is built';
    body.innerHTML = '';
    for (const r of o.rows) {
      const chg = r.changePct;
      const cls = chg > 0 ? 'up' : chg < 0 ? 'down' : '';
      const rsiCls = r.rsi14 >= 70 ? 'rsi-hot' : r.rsi14 !== undefined && r.rsi14 <= 30 ? 'rsi-cold' : '';
      const last =
        r.priceFrom === 'intraday' && r.lastBarAt
          ? fmtTime.format(new Date(r.lastBarAt)) + ' · ' + esc(r.interval) + ' · ' + esc(r.tradeDate)
          : r.priceFrom === 'daily'
            ? 'daily close ' + esc(r.tradeDate)
            : '<span class="muted">no data yet</span>';
      const anomalies = r.anomalies.length
        ? r.anomalies.map((a) => '<span class="tag anomaly">' + esc(a) + '</span>').join('')
        : '<span class="muted">' + (hasAnomalyMart ? 'none' : 'n/a') + '</span>';
      const tr = el('tr', { 'data-symbol': r.symbol });
      tr.innerHTML =
        '<td class="left sym">' +
        esc(r.symbol) +
        '</td>' +
        '<td data-field="price">' +
        price(r.price) +
        '</td>' +
        '<td data-field="change" class="' +
        cls +
        '">' +
        (chg === undefined ? '–' : (chg > 0 ? '+' : '') + num(chg) + '%') +
        '</td>' +
        '<td data-field="volume">' +
        compact(r.volume) +
        '</td>' +
        '<td data-field="vwap">' +
        price(r.vwap) +
        '</td>' +
        '<td data-field="rsi" class="' +
        rsiCls +
        '">' +
        (r.rsi14 === undefined ? '–' : num(r.rsi14, 1)) +
        '</td>' +
        '<td class="left" data-field="signals">' +
        signalTags(r.signals) +
        '</td>' +
        '<td class="left" data-field="anomalies">' +
        anomalies +
        '</td>' +
        '<td class="left" data-field="last-bar">' +
        last +
        '</td>';
      const before = previous.get(r.symbol);
      if (before !== undefined && before !== r.price) tr.children[1].classList.add('flash');
      previous.set(r.symbol, r.price);
      if (r.symbol === state.selected) tr.classList.add('selected');
      tr.addEventListener('click', () => select(r.symbol));
      body.appendChild(tr);
    }
    const streamed = o.rows.filter((r) => r.priceFrom === 'intraday').length;
    $('table-note').textContent =
      o.rows.length +
      ' symbols · ' +
      streamed +
      ' priced from streamed bars · RSI and signals from gold' +
      (o.goldDate ? ' (' + o.goldDate + ')' : '');
  }

  // ---------- pipeline status ----------
  function stateTag(status) {
    return '<span class="state" data-status="' + esc(status) + '">' + esc(status) + '</span>';
  }
  function runLink(r) {
    return (
      '<a href="' +
      esc(r.url) +
      '" target="_blank" rel="noopener" data-workflow-id="' +
      esc(r.workflowId) +
      '">' +
      esc(r.workflowId) +
      '</a>'
    );
  }
  function item(name, statusTag, lines) {
    return (
      '<div class="item"><div class="head"><span class="name">' +
      esc(name) +
      '</span>' +
      statusTag +
      '</div>' +
      lines.map((l) => '<div class="detail">' + l + '</div>').join('') +
      '</div>'
    );
  }
  function renderStatus(s, mark) {
    const box = $('pipeline');
    const ui = $('temporal-ui');
    if (!s) {
      box.innerHTML = '<div class="detail muted">No orchestrator status in this process.</div>';
      ui.hidden = true;
      return;
    }
    ui.hidden = !s.temporalUiUrl;
    if (s.temporalUiUrl) ui.href = s.temporalUiUrl;
    const parts = [];
    if (s.unavailable) parts.push(item('Temporal', stateTag('UNREACHABLE'), [esc(s.unavailable)]));
    const ss = s.session;
    if (ss) {
      const lines = [runLink(ss)];
      if (ss.closed) lines.push('closed: ' + esc(ss.closed));
      else
        lines.push(
          (ss.demoSpeed ? 'DEMO replay at ' + ss.demoSpeed + '× · ' : '') +
            ss.polls +
            ' polls · ' +
            ss.bars +
            ' bars' +
            (ss.paused ? ' · PAUSED' : ''),
        );
      lines.push(
        'last poll: ' +
          (ss.lastPollEnd
            ? 'window to ' +
              fmtDateTime.format(new Date(ss.lastPollEnd)) +
              ' Cairo' +
              (ss.demoSpeed ? ' (market time)' : '')
            : 'none yet'),
      );
      const ig = ss.intraday;
      if (ig)
        lines.push(
          'intraday gold: ' +
            (ig.lastPollEnd
              ? 'refreshed after the window to ' +
                fmtDateTime.format(new Date(ig.lastPollEnd)) +
                ' Cairo · ' +
                ig.quotes +
                ' symbols · ' +
                ig.refreshes +
                ' refreshes'
              : 'no refresh yet') +
            (ig.failed
              ? ' · <span class="down">' + ig.failed + ' failed: ' + esc(ig.lastError || '') + '</span>'
              : ''),
        );
      for (const f of ss.failing || [])
        lines.push('<span class="down">' + esc(f.symbol) + ' failed: ' + esc(f.reason) + '</span>');
      if (ss.note) lines.push('<span class="down">' + esc(ss.note) + '</span>');
      parts.push(
        item('Market session' + (ss.tradingDate ? ' ' + ss.tradingDate : ''), stateTag(ss.status), lines),
      );
    } else if (!s.unavailable)
      parts.push(item('Market session', stateTag('NONE'), ['no market session has run yet']));

    if (s.direct)
      parts.push(
        item('Stream sinks', stateTag('DIRECT'), [
          'BUS=direct: polls write the object store and warehouse themselves; no consumer, lag or dead-letter topic',
        ]),
      );
    else if (s.consumer) {
      const c = s.consumer;
      parts.push(
        item('Stream consumer', stateTag(c.status), [
          runLink(c),
          'lag: ' +
            (c.lag === undefined ? '?' : c.lag.toLocaleString('en-US')) +
            ' messages · dead letters: <span class="' +
            (c.deadLettered ? 'down' : '') +
            '">' +
            c.deadLettered +
            '</span>',
          c.messages.toLocaleString('en-US') +
            ' messages, ' +
            c.bars.toLocaleString('en-US') +
            ' bars in ' +
            c.rounds +
            ' finished rounds',
        ]),
      );
    } else if (!s.unavailable)
      parts.push(item('Stream consumer', stateTag('NOT STARTED'), ['start it with: egx stream start']));

    const b = s.dailyBatch;
    if (b)
      parts.push(
        item('Last daily batch', stateTag(b.status), [
          runLink(b),
          (b.closedAt
            ? 'finished ' + fmtDateTime.format(new Date(b.closedAt))
            : b.startedAt
              ? 'started ' + fmtDateTime.format(new Date(b.startedAt))
              : '') + ' Cairo',
        ]),
      );
    else if (!s.unavailable)
      parts.push(item('Last daily batch', stateTag('NONE'), ['no daily batch has run yet']));

    const landed = mark && mark.split('/')[0];
    if (landed && landed !== '-')
      parts.push(
        item('Warehouse', '', ['newest bars landed ' + fmtDateTime.format(new Date(landed)) + ' Cairo']),
      );
    box.innerHTML = parts.join('');
  }

  // ---------- charts ----------
  const COLORS = {
    bg: '#161b24',
    text: '#aab2c5',
    grid: 'rgba(42, 48, 62, 0.6)',
    up: '#26a69a',
    down: '#ef5350',
    ma7: '#f5c542',
    ma30: '#42a5f5',
    ma50: '#ff8a65',
    ma200: '#e0e0e0',
    bb: 'rgba(178, 124, 255, 0.9)',
    bbMid: 'rgba(178, 124, 255, 0.35)',
  };
  const timeText = (t) => {
    if (typeof t === 'number') return fmtDateTime.format(new Date(t * 1000));
    if (typeof t === 'string') return t;
    return t.year + '-' + String(t.month).padStart(2, '0') + '-' + String(t.day).padStart(2, '0');
  };
  function baseChart(container, intraday) {
    const chart = LW.createChart(container, {
      autoSize: true,
      layout: {
        background: { type: 'solid', color: COLORS.bg },
        textColor: COLORS.text,
        fontSize: 11,
        panes: { separatorColor: '#262d3b', separatorHoverColor: '#39425a' },
      },
      grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
      rightPriceScale: { borderColor: '#262d3b' },
      timeScale: {
        borderColor: '#262d3b',
        timeVisible: intraday,
        secondsVisible: false,
        rightOffset: 3,
        tickMarkFormatter: intraday
          ? (t) => (typeof t === 'number' ? fmtTime.format(new Date(t * 1000)) : null)
          : undefined,
      },
      localization: { timeFormatter: timeText },
      crosshair: { mode: LW.CrosshairMode.Normal },
    });
    const candles = chart.addSeries(LW.CandlestickSeries, {
      upColor: COLORS.up,
      downColor: COLORS.down,
      borderVisible: false,
      wickUpColor: COLORS.up,
      wickDownColor: COLORS.down,
    });
    const volume = chart.addSeries(
      LW.HistogramSeries,
      { priceFormat: { type: 'volume' }, priceLineVisible: false, lastValueVisible: false },
      1,
    );
    const panes = chart.panes();
    if (panes[0]) panes[0].setStretchFactor(3);
    if (panes[1]) panes[1].setStretchFactor(1);
    return { chart, candles, volume, lines: {} };
  }
  const line = (c, key, color, style, width) => {
    if (!c.lines[key])
      c.lines[key] = c.chart.addSeries(LW.LineSeries, {
        color,
        lineWidth: width || 1.5,
        lineStyle: style || 0,
        priceLineVisible: false,
        lastValueVisible: false,
        crosshairMarkerVisible: false,
      });
    return c.lines[key];
  };
  const volColor = (b) => (b.close >= b.open ? 'rgba(38, 166, 154, 0.5)' : 'rgba(239, 83, 80, 0.5)');

  let daily = null;
  let intra = null;
  let chartSymbol = null;

  function legend(box, symbol, bar, extra) {
    if (!bar) {
      box.innerHTML = '<b>' + esc(symbol) + '</b><span class="muted">no bars</span>';
      return;
    }
    const cls = bar.close >= bar.open ? 'up' : 'down';
    box.innerHTML =
      '<b>' +
      esc(symbol) +
      '</b>' +
      '<span class="muted">O</span><span class="' +
      cls +
      '">' +
      price(bar.open) +
      '</span>' +
      '<span class="muted">H</span><span class="' +
      cls +
      '">' +
      price(bar.high) +
      '</span>' +
      '<span class="muted">L</span><span class="' +
      cls +
      '">' +
      price(bar.low) +
      '</span>' +
      '<span class="muted">C</span><span class="' +
      cls +
      '">' +
      price(bar.close) +
      '</span>' +
      (extra || '');
  }

  function renderCharts(data) {
    const symbolChanged = chartSymbol !== data.symbol;
    chartSymbol = data.symbol;
    if (!daily) daily = baseChart($('daily-chart'), false);
    if (!intra) intra = baseChart($('intraday-chart'), true);

    // Daily: candles, MA 7/30 (and 50/200 when gold has them), Bollinger bands, volume.
    const d = data.daily;
    daily.candles.setData(
      d.map((p) => ({ time: p.date, open: p.open, high: p.high, low: p.low, close: p.close })),
    );
    daily.volume.setData(d.map((p) => ({ time: p.date, value: p.volume, color: volColor(p) })));
    const lineStyle = {
      MA_7: [COLORS.ma7, 0, 1.5],
      MA_30: [COLORS.ma30, 0, 1.5],
      MA_50: [COLORS.ma50, 0, 1.5],
      MA_200: [COLORS.ma200, 0, 1.5],
      BB_UPPER_20: [COLORS.bb, 2, 1],
      BB_MIDDLE_20: [COLORS.bbMid, 0, 1],
      BB_LOWER_20: [COLORS.bb, 2, 1],
    };
    for (const key of data.lines) {
      const [color, style, width] = lineStyle[key] || ['#888', 0, 1];
      line(daily, key, color, style, width).setData(
        d.filter((p) => p.lines[key] !== undefined).map((p) => ({ time: p.date, value: p.lines[key] })),
      );
    }
    const lastDaily = d[d.length - 1];
    const maText = (p) =>
      p
        ? ['MA_7', 'MA_30']
            .filter((k) => p.lines[k] !== undefined)
            .map(
              (k) =>
                '<span class="muted">' +
                k.replace('_', ' ') +
                '</span><span>' +
                price(p.lines[k]) +
                '</span>',
            )
            .join('') + (p.provisional ? '<span class="tag">today, from streamed bars</span>' : '')
        : '';
    legend($('daily-legend'), data.symbol, lastDaily, maText(lastDaily));
    $('chart-title').textContent = data.symbol + ' · daily' + (lastDaily ? ' to ' + lastDaily.date : '');
    if (symbolChanged) {
      const n = d.length;
      if (n > 130) daily.chart.timeScale().setVisibleLogicalRange({ from: n - 130, to: n + 2 });
      else daily.chart.timeScale().fitContent();
    }
    daily.chart.unsubscribeCrosshairMove(daily.onMove || (() => {}));
    daily.onMove = (param) => {
      const p = param.time ? d.find((x) => x.date === timeText(param.time)) : undefined;
      legend($('daily-legend'), data.symbol, p || lastDaily, maText(p || lastDaily));
    };
    daily.chart.subscribeCrosshairMove(daily.onMove);

    // Intraday: the latest streamed session's bars, times in Cairo.
    const s = data.intraday;
    const bars = s ? s.bars : [];
    const t = (b) => Math.floor(Date.parse(b.time) / 1000);
    intra.candles.setData(
      bars.map((b) => ({ time: t(b), open: b.open, high: b.high, low: b.low, close: b.close })),
    );
    intra.volume.setData(bars.map((b) => ({ time: t(b), value: b.volume, color: volColor(b) })));
    legend($('intraday-legend'), data.symbol, bars[bars.length - 1]);
    $('intraday-title').textContent =
      data.symbol +
      ' · intraday' +
      (s ? ' ' + s.interval + ' · ' + dayOf(s.tradeDate) + ' (' + s.tradeDate + ')' : '');
    $('intraday-note').textContent = s ? bars.length + ' streamed bars' : 'no streamed bars yet';
    // The whole session's width (10:00–14:30), so a session under way fills from the left.
    const perSession = s ? Math.round(270 / ({ '1m': 1, '5m': 5, '1h': 60 }[s.interval] || 5)) : 0;
    if (perSession >= bars.length && perSession > 0)
      intra.chart.timeScale().setVisibleLogicalRange({ from: -0.5, to: perSession + 0.5 });
    else if (symbolChanged) intra.chart.timeScale().fitContent();
  }

  // ---------- loading ----------
  let loading = null;
  let again = false;
  async function refresh() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      try {
        const o = await getJson('/api/overview');
        state.overview = o;
        state.refreshes++;
        if (!state.selected || !o.rows.some((r) => r.symbol === state.selected)) {
          const fromHash = decodeURIComponent(location.hash.slice(1)).toUpperCase();
          state.selected = o.rows.some((r) => r.symbol === fromHash)
            ? fromHash
            : o.rows[0] && o.rows[0].symbol;
        }
        renderHeader(o);
        renderTable(o);
        renderStatus(o.status, o.mark);
        if (state.selected)
          renderCharts(await getJson('/api/chart?symbol=' + encodeURIComponent(state.selected)));
        showError('');
      } catch (e) {
        showError('Could not load the data: ' + e.message);
      } finally {
        loading = null;
      }
      if (again) {
        again = false;
        await refresh();
      }
    })();
    return loading;
  }

  async function select(symbol) {
    state.selected = symbol;
    history.replaceState(null, '', '#' + symbol);
    for (const tr of document.querySelectorAll('#quotes tbody tr'))
      tr.classList.toggle('selected', tr.dataset.symbol === symbol);
    try {
      renderCharts(await getJson('/api/chart?symbol=' + encodeURIComponent(symbol)));
    } catch (e) {
      showError('Could not load the chart of ' + symbol + ': ' + e.message);
    }
  }

  function connect() {
    const conn = $('connection');
    const events = new EventSource('/events');
    events.addEventListener('open', () => {
      conn.dataset.state = 'live';
      conn.textContent = 'live';
    });
    events.addEventListener('error', () => {
      conn.dataset.state = 'down';
      conn.textContent = 'reconnecting…';
    });
    const on = (name, handler) =>
      events.addEventListener(name, (ev) => {
        state.events++;
        state.lastEvent = { name, at: new Date().toISOString() };
        handler(ev.data ? JSON.parse(ev.data) : null);
      });
    on('hello', () => {});
    on('bars', () => void refresh());
    on('market', () => void refresh());
    on('status', (s) => {
      if (state.overview) {
        state.overview.status = s;
        renderStatus(s, state.overview.mark);
      }
      void refresh();
    });
  }

  refresh().then(connect);
})();
