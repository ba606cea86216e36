/*
 * list.js: a list's page.  Loads the list's JSON (gzip), then shows its
 * entries in a virtual list: only the rows in view (and a few around)
 * are in the DOM, so 100,000 entries scroll and filter as fast as 100.
 *
 *  - Search by text (substring of value, author, comment; any case) or by
 *    JavaScript regular expression (tested on the value).
 *  - Sort by file order, value, date (newest first) or author.
 *  - #<item id> in the URL opens the page on that entry: it is scrolled
 *    into view, marked, and its provenance shown beside the list.
 *  - Keyboard: Tab reaches the entries; up, down, Home and End move
 *    between them (the focus survives the rows being made anew); Enter
 *    opens one.
 *
 * Timings for tests and benchmarks: window.HeliosList.loadMs (fetch to
 * first render) and .searchMs (the last filter and render).
 */
(function () {
  'use strict';
  var H = window.Helios;
  var ROW = 52;           /* px; keep in step with .row in style.css */
  var OVERSCAN = 8;

  var box, inner, status, detail, detailDl, q, sortSel;
  var items = [];         /* {it, value, lower, author, at, pos} */
  var byId = new Map();
  var view = [];          /* indices into items, filtered and sorted */
  var selected = -1;      /* item index */
  var listId = '';
  var api = window.HeliosList = { loadMs: null, searchMs: null, ready: false };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setStatus(msg) { status.textContent = msg; }

  /* Labels of the provenance fields, in the order shown. */
  var FIELDS = [
    ['id', 'Entry id'], ['created_by', 'Added by'], ['created_at', 'Added'],
    ['requester', 'Requested by'], ['approver', 'Approved by'],
    ['approved_by', 'Approved by'], ['approved_at', 'Approved'],
    ['reason', 'Why'], ['why', 'Why'], ['comment', 'Comment'],
    ['commit', 'Git commit'], ['committed_by', 'Committed by'],
    ['committed_at', 'Committed'],
    ['evidence', 'Evidence'], ['proposal', 'Proposal'],
    ['modified_by', 'Last changed by'], ['modified_at', 'Last changed'],
    ['disable', 'Disabled'], ['disabled', 'Disabled'], ['pass', 'Pass'],
    ['token_id', 'Token']
  ];
  var SKIP = { text_pattern: 1, pattern: 1, ip: 1, ns: 1, asn: 1, type: 1,
    review: 1, origin: 1 };

  /*
   * The provenance records an item may carry, flattened into fields: the
   * review that published it ("review": requester, approver, reason,
   * evidence, proposal) and the git commit it came from ("origin").
   */
  function provenance(it) {
    var out = {}, k, r = it.review, o = it.origin;
    for (k in it) if (Object.prototype.hasOwnProperty.call(it, k)) out[k] = it[k];
    if (r && typeof r === 'object') {
      ['requester', 'approver', 'reason', 'evidence', 'proposal', 'comment']
        .forEach(function (f) { if (r[f] !== undefined) out[f] = r[f]; });
    }
    if (o && typeof o === 'object') {
      if (o.commit) out.commit = String(o.commit).slice(0, 12);
      if (o.subject) out.why = o.subject;
      if (o.author) out.committed_by = o.author;
      if (o.time) out.committed_at = o.time;
      if (o.requester && out.requester === undefined) out.requester = o.requester;
    }
    return out;
  }

  function isUrl(s) { return typeof s === 'string' && /^https?:\/\/\S+$/i.test(s); }

  function linkOrText(dd, v) {
    if (isUrl(v)) {
      var a = el('a', null, v);
      a.href = v;
      a.rel = 'nofollow noopener noreferrer';
      dd.appendChild(a);
    } else {
      dd.appendChild(document.createTextNode(v));
    }
  }

  function renderValue(dd, key, v) {
    if (v === null || v === undefined) return;
    if (/_at$/.test(key) && typeof v === 'number') {
      var t = el('time', null, H.fmtDate(v));
      t.dateTime = new Date(v * 1000).toISOString();
      dd.appendChild(t);
    } else if (key === 'proposal' && (typeof v === 'number' ||
        typeof v === 'string')) {
      var a = el('a', null, '#' + v);
      a.href = 'proposals.html#' + encodeURIComponent(String(v));
      dd.appendChild(a);
    } else if (Array.isArray(v)) {
      var ul = el('ul', 'plain');
      v.forEach(function (x) {
        var li = el('li');
        if (x && typeof x === 'object') {
          renderValue(li, key, x.url || x.href || JSON.stringify(x));
        } else {
          linkOrText(li, String(x));
        }
        ul.appendChild(li);
      });
      dd.appendChild(ul);
    } else if (typeof v === 'object') {
      if (v.url) linkOrText(dd, String(v.url));
      else dd.appendChild(document.createTextNode(JSON.stringify(v)));
    } else if (typeof v === 'boolean') {
      dd.appendChild(document.createTextNode(v ? 'yes' : 'no'));
    } else {
      linkOrText(dd, String(v));
    }
  }

  function showDetail(idx) {
    var rec = items[idx], it = provenance(rec.it), seen = {}, k;
    detailDl.textContent = '';
    function add(label, key, v) {
      var dt = el('dt', null, label), dd = el('dd');
      renderValue(dd, key, v);
      detailDl.appendChild(dt);
      detailDl.appendChild(dd);
    }
    var dt = el('dt', null, 'Value'), dd = el('dd');
    dd.appendChild(el('code', 'value', rec.value));
    detailDl.appendChild(dt);
    detailDl.appendChild(dd);
    FIELDS.forEach(function (f) {
      if (it[f[0]] !== undefined && !seen[f[1] + f[0]]) {
        seen[f[1] + f[0]] = 1;
        add(f[1], f[0], it[f[0]]);
      }
    });
    /* Fields this page does not know yet are shown as they are. */
    for (k in it) {
      if (!Object.prototype.hasOwnProperty.call(it, k) || SKIP[k]) continue;
      if (FIELDS.some(function (f) { return f[0] === k; })) continue;
      add(k.replace(/_/g, ' '), k, it[k]);
    }
    dt = el('dt', null, 'Permalink');
    dd = el('dd');
    var a = el('a', null, listId + '.html#' + it.id);
    a.href = '#' + it.id;
    dd.appendChild(a);
    var b = el('button', 'copy', 'Copy URL');
    b.type = 'button';
    b.setAttribute('data-copy', listId + '.html#' + it.id);
    b.setAttribute('aria-label', 'Copy the permalink');
    dd.appendChild(document.createTextNode(' '));
    dd.appendChild(b);
    detailDl.appendChild(dt);
    detailDl.appendChild(dd);
    document.getElementById('detail-h').textContent = 'Entry ' + it.id;
    detail.hidden = false;
  }

  /* The view position of the row whose link has the focus, or -1. */
  function focusedPos() {
    var a = document.activeElement;
    if (!a || !inner.contains(a)) return -1;
    var row = a.closest('.row');
    return row ? +row.getAttribute('data-pos') : -1;
  }

  function focusPos(pos) {
    var a = inner.querySelector('.row[data-pos="' + pos + '"] a');
    if (a) a.focus({ preventScroll: true });
  }

  function render() {
    var keep = focusedPos();
    var top = box.scrollTop, h = box.clientHeight || 600;
    var first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    var last = Math.min(view.length, Math.ceil((top + h) / ROW) + OVERSCAN);
    inner.style.height = (view.length * ROW) + 'px';
    var frag = document.createDocumentFragment();
    for (var i = first; i < last; i++) {
      var rec = items[view[i]];
      var row = el('div', 'row' + (view[i] === selected ? ' sel' : ''));
      row.setAttribute('role', 'listitem');
      row.setAttribute('aria-setsize', String(view.length));
      row.setAttribute('aria-posinset', String(i + 1));
      row.style.transform = 'translateY(' + (i * ROW) + 'px)';
      var a = el('a', 'val');
      a.href = '#' + rec.it.id;
      a.appendChild(el('code', null, rec.value));
      if (view[i] === selected) a.setAttribute('aria-current', 'true');
      row.appendChild(a);
      var meta = el('span', 'meta');
      meta.textContent = (rec.author || 'unknown') + ' · ' + H.fmtDate(rec.at) +
        (rec.it.comment ? ' · ' + rec.it.comment : '');
      row.appendChild(meta);
      row.setAttribute('data-id', String(rec.it.id));
      row.setAttribute('data-pos', String(i));
      frag.appendChild(row);
    }
    inner.textContent = '';
    inner.appendChild(frag);
    /* Rows are made anew: keep the keyboard's place. */
    if (keep !== -1) focusPos(keep);
  }

  /* Up and down arrows, Home and End move between entries. */
  function onKey(ev) {
    var pos = focusedPos(), to;
    if (pos === -1) return;
    if (ev.key === 'ArrowDown') to = Math.min(view.length - 1, pos + 1);
    else if (ev.key === 'ArrowUp') to = Math.max(0, pos - 1);
    else if (ev.key === 'Home') to = 0;
    else if (ev.key === 'End') to = view.length - 1;
    else return;
    ev.preventDefault();
    var h = box.clientHeight || 600;
    if (to * ROW < box.scrollTop) box.scrollTop = to * ROW;
    else if ((to + 1) * ROW > box.scrollTop + h) box.scrollTop = (to + 1) * ROW - h;
    document.activeElement.blur();
    render();
    focusPos(to);
  }

  var SORTS = {
    file: function (a, b) { return items[a].pos - items[b].pos; },
    value: function (a, b) {
      var x = items[a].lowerValue, y = items[b].lowerValue;
      return x < y ? -1 : x > y ? 1 : a - b;
    },
    date: function (a, b) { return (items[b].at - items[a].at) || (a - b); },
    author: function (a, b) {
      var x = items[a].lowerAuthor, y = items[b].lowerAuthor;
      return x < y ? -1 : x > y ? 1 : (items[b].at - items[a].at) || (a - b);
    }
  };

  function mode() {
    var r = document.querySelector('input[name="mode"]:checked');
    return r ? r.value : 'text';
  }

  function apply(keepScroll) {
    var t0 = performance.now();
    var s = q.value, m = mode(), re = null, i, out = [];
    q.removeAttribute('aria-invalid');
    if (s && m === 'regex') {
      try { re = new RegExp(s, 'i'); } catch (e) {
        q.setAttribute('aria-invalid', 'true');
        setStatus('Not a valid regular expression: ' + e.message);
        return;
      }
    }
    var low = s.toLowerCase();
    for (i = 0; i < items.length; i++) {
      if (!s) out.push(i);
      else if (re ? re.test(items[i].value) : items[i].lower.indexOf(low) !== -1)
        out.push(i);
    }
    var cmp = SORTS[sortSel.value] || SORTS.file;
    if (sortSel.value !== 'file') out.sort(cmp);
    view = out;
    if (!keepScroll) box.scrollTop = 0;
    render();
    api.searchMs = performance.now() - t0;
    setStatus(s ? view.length + ' of ' + items.length + ' entries match' :
      items.length + ' entries');
    status.setAttribute('data-search-ms', api.searchMs.toFixed(1));
  }

  function openHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id || !byId.has(id)) return false;
    var idx = byId.get(id), pos = view.indexOf(idx);
    if (pos === -1) {
      q.value = '';
      apply(true);
      pos = view.indexOf(idx);
    }
    selected = idx;
    var h = box.clientHeight || 600;
    box.scrollTop = Math.max(0, pos * ROW - Math.floor(h / 2) + ROW);
    render();
    showDetail(idx);
    return true;
  }

  function load() {
    var t0 = performance.now();
    if (!H.served) {
      setStatus('This copy was opened as a file, and browsers do not let a ' +
        'page read other files. Serve the directory over HTTP (for ' +
        'example: python3 -m http.server) to search the entries, or open ' +
        box.getAttribute('data-json') + '.');
      return;
    }
    H.loadList(box.getAttribute('data-gz')).then(function (doc) {
      var list = doc.items || [];
      items = new Array(list.length);
      for (var i = 0; i < list.length; i++) {
        var it = list[i], v = H.itemValue(it), au = it.created_by || '';
        items[i] = {
          it: it, value: v, pos: i, at: it.created_at || 0, author: au,
          lowerValue: v.toLowerCase(), lowerAuthor: au.toLowerCase(),
          lower: (v + '\n' + au + '\n' + (it.comment || '') + '\n' +
            (it.reason || '')).toLowerCase()
        };
        byId.set(String(it.id), i);
      }
      apply(false);
      if (!openHash()) render();
      api.loadMs = performance.now() - t0;
      api.ready = true;
      document.body.setAttribute('data-ready', 'true');
      status.setAttribute('data-load-ms', api.loadMs.toFixed(1));
    }).catch(function (e) {
      setStatus('The entries could not be loaded: ' + e.message);
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    box = document.getElementById('entries');
    if (!box) return;
    listId = box.getAttribute('data-list');
    status = document.getElementById('status');
    detail = document.getElementById('detail');
    detailDl = document.getElementById('detail-dl');
    q = document.getElementById('q');
    sortSel = document.getElementById('sort');
    box.setAttribute('role', 'region');
    box.setAttribute('aria-label', 'Entries of ' + listId);
    box.tabIndex = 0;
    inner = el('div', 'inner');
    inner.setAttribute('role', 'list');
    box.appendChild(inner);
    var pending = false;
    box.addEventListener('scroll', function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; render(); });
    });
    window.addEventListener('resize', function () { render(); });
    box.addEventListener('keydown', onKey);
    document.getElementById('search').addEventListener('submit',
      function (ev) { ev.preventDefault(); apply(false); });
    q.addEventListener('input', function () { apply(false); });
    sortSel.addEventListener('change', function () { apply(false); });
    document.querySelectorAll('input[name="mode"]').forEach(function (r) {
      r.addEventListener('change', function () { apply(false); });
    });
    window.addEventListener('hashchange', function () {
      if (openHash()) document.getElementById('detail-h').focus();
    });
    load();
  });
})();
