/*
 * caught.js: "Is this caught?".  Loads every list named on the page
 * (li[data-list] with data-kind and data-gz), then tests a pasted text:
 *
 *   regex   the patterns, translated by pyregex.js; when the page is
 *           served by the Helios daemon, POST /test checks them with PCRE2
 *           as well and its answer wins (it also covers the patterns this
 *           browser cannot check)
 *   number  phone numbers: an entry matches when its digits appear in the
 *           digits of the text
 *   cidr    IPv4 addresses in the text, inside an entry's block
 *   ns      domain names in the text equal to a name server of an entry
 *   asn     "AS123" or "123" in the text equal to an entry's ASN
 *
 * Results: #hits (li[data-list][data-id]), #unchecked, and #status with
 * data-hits / data-unchecked counts for tests.
 */
(function () {
  'use strict';
  var H = window.Helios;
  var lists = [];   /* {id, kind, entries: [{id, value, re?, error?}]} */
  var status, hitsEl, uncheckedEl;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function ipv4(s) {
    var m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (!m) return null;
    var n = 0;
    for (var i = 1; i <= 4; i++) {
      var b = +m[i];
      if (b > 255) return null;
      n = n * 256 + b;
    }
    return n;
  }

  function prepare(l, doc) {
    (doc.items || []).forEach(function (it) {
      var e = { id: it.id, value: H.itemValue(it) };
      if (it.disable === true || it.disabled === true) return;
      if (l.kind === 'regex') {
        var c = window.HeliosPyRegex.compile(e.value);
        if (c.re) { e.re = c.re; e.notes = c.notes; } else e.error = c.error;
      } else if (l.kind === 'number') {
        e.digits = e.value.replace(/\D/g, '');
      } else if (l.kind === 'cidr') {
        var parts = e.value.split('/'), base = ipv4(parts[0]);
        var bits = parts.length > 1 ? +parts[1] : 32;
        if (base === null || !(bits >= 0 && bits <= 32))
          e.error = 'not an IPv4 block: this page checks IPv4 only';
        else {
          e.bits = bits;
          e.base = bits === 0 ? 0 : Math.floor(base / Math.pow(2, 32 - bits));
        }
      } else if (l.kind === 'ns') {
        e.names = (Array.isArray(it.ns) ? it.ns : e.value.split(/\s+/))
          .map(function (n) { return n.toLowerCase().replace(/\.?$/, '.'); });
      } else if (l.kind === 'asn') {
        e.asn = e.value.replace(/^AS/i, '');
      }
      l.entries.push(e);
    });
  }

  function local(text) {
    var hits = [], unchecked = [];
    var digits = text.replace(/\D/g, '');
    var ips = (text.match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) || []).map(ipv4)
      .filter(function (x) { return x !== null; });
    var domains = (text.toLowerCase().match(/[a-z0-9-]+(?:\.[a-z0-9-]+)+\.?/g) || [])
      .map(function (d) { return d.replace(/\.?$/, '.'); });
    var asns = (text.match(/\b(?:AS)?\d+\b/gi) || [])
      .map(function (a) { return a.replace(/^AS/i, ''); });
    lists.forEach(function (l) {
      l.entries.forEach(function (e) {
        var m = null;
        if (e.error) { unchecked.push({ list: l.id, e: e, reason: e.error }); return; }
        if (l.kind === 'regex') {
          var r = e.re.exec(text);
          if (r) m = r[0];
        } else if (l.kind === 'number') {
          if (e.digits.length >= 5 && digits.indexOf(e.digits) !== -1) m = e.value;
        } else if (l.kind === 'cidr') {
          ips.forEach(function (ip) {
            var b = e.bits === 0 ? 0 : Math.floor(ip / Math.pow(2, 32 - e.bits));
            if (b === e.base) m = e.value;
          });
        } else if (l.kind === 'ns') {
          if (e.names.some(function (n) { return domains.indexOf(n) !== -1; })) m = e.value;
        } else if (l.kind === 'asn') {
          if (asns.indexOf(e.asn) !== -1) m = 'AS' + e.asn;
        }
        if (m !== null) hits.push({ list: l.id, e: e, match: m, engine: 'JavaScript' });
      });
    });
    return { hits: hits, unchecked: unchecked };
  }

  function find(listId, id) {
    for (var i = 0; i < lists.length; i++) {
      if (lists[i].id !== listId) continue;
      for (var j = 0; j < lists[i].entries.length; j++)
        if (lists[i].entries[j].id === id) return lists[i].entries[j];
    }
    return { id: id, value: '' };
  }

  /* The daemon's PCRE2 answer replaces the browser's for its lists. */
  function merge(res, srv) {
    var done = {};
    (srv.lists || []).forEach(function (l) { done[l] = true; });
    var hits = res.hits.filter(function (h) { return !done[h.list]; });
    var unchecked = res.unchecked.filter(function (u) { return !done[u.list]; });
    srv.items.forEach(function (h) {
      var e = find(h.list, h.id);
      if (!e.value) e = { id: h.id, value: h.pattern };
      hits.push({ list: h.list, e: e, match: h.match, engine: 'PCRE2' });
    });
    (srv.unchecked || []).forEach(function (u) {
      var e = find(u.list, u.id);
      /* PCRE2 lacks the construct; the browser may have it. */
      if (e.re) {
        var r = e.re.exec(res.text);
        if (r) hits.push({ list: u.list, e: e, match: r[0], engine: 'JavaScript' });
        return;
      }
      unchecked.push({ list: u.list, e: e.value ? e : { id: u.id, value: u.pattern },
        reason: (e.error ? e.error + '; ' : '') + u.reason });
    });
    return { hits: hits, unchecked: unchecked, text: res.text };
  }

  function item(h, withMatch) {
    var li = el('li');
    li.setAttribute('data-list', h.list);
    li.setAttribute('data-id', String(h.e.id));
    var a = el('a', null, h.list + ' #' + h.e.id);
    a.href = h.list + '.html#' + h.e.id;
    li.appendChild(a);
    li.appendChild(document.createTextNode(' '));
    li.appendChild(el('code', 'value', h.e.value));
    if (withMatch) {
      var p = el('span', 'meta', 'matched “' + h.match + '” (' + h.engine + ')');
      li.appendChild(document.createTextNode(' '));
      li.appendChild(p);
    } else {
      li.appendChild(document.createTextNode(' '));
      li.appendChild(el('span', 'meta', h.reason));
    }
    return li;
  }

  function show(res) {
    hitsEl.textContent = '';
    uncheckedEl.textContent = '';
    res.hits.forEach(function (h) { hitsEl.appendChild(item(h, true)); });
    res.unchecked.forEach(function (u) { uncheckedEl.appendChild(item(u, false)); });
    if (!res.hits.length) hitsEl.appendChild(el('li', 'none', 'No pattern matches.'));
    document.getElementById('results').hidden = false;
    document.getElementById('unchecked-box').hidden = res.unchecked.length === 0;
    status.setAttribute('data-hits', String(res.hits.length));
    status.setAttribute('data-unchecked', String(res.unchecked.length));
    status.textContent = res.hits.length + (res.hits.length === 1 ? ' pattern matches' :
      ' patterns match') + (res.unchecked.length ? '; ' + res.unchecked.length +
      ' could not be checked' : '') + (res.pcre ? ' (regex lists checked by the daemon with PCRE2).' : '.');
  }

  function test(text) {
    var res = local(text);
    res.text = text;
    status.removeAttribute('data-hits');
    status.textContent = 'Testing…';
    H.daemon.then(function (yes) {
      if (!yes) return show(res);
      return fetch(H.testUrl, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: text })
      }).then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, j: j }; });
      }).then(function (x) {
        if (!x.ok) {
          show(res);
          status.textContent += ' The daemon did not answer (' + (x.j.message || 'error') +
            '); the browser checked what it could.';
          return;
        }
        var m = merge(res, x.j);
        m.pcre = true;
        show(m);
      }, function () { show(res); });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    status = document.getElementById('status');
    hitsEl = document.getElementById('hits');
    uncheckedEl = document.getElementById('unchecked');
    var form = document.getElementById('caught');
    var ta = document.getElementById('text');
    var lis = document.querySelectorAll('#caught-lists li[data-list]');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (ta.value) test(ta.value);
    });
    ta.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        if (ta.value) test(ta.value);
      }
    });
    if (!H.served) {
      status.textContent = 'This copy was opened as a file, and browsers do ' +
        'not let a page read other files: serve the directory over HTTP ' +
        '(for example: python3 -m http.server) to test strings.';
      return;
    }
    var jobs = Array.prototype.map.call(lis, function (li) {
      var l = { id: li.getAttribute('data-list'), kind: li.getAttribute('data-kind'), entries: [] };
      lists.push(l);
      return H.loadList(li.getAttribute('data-gz')).then(function (doc) { prepare(l, doc); });
    });
    Promise.all(jobs).then(function () {
      var n = 0, bad = 0;
      lists.forEach(function (l) {
        n += l.entries.length;
        l.entries.forEach(function (e) { if (e.error) bad++; });
      });
      status.textContent = n + ' entries of ' + lists.length + ' lists loaded' +
        (bad ? '; ' + bad + ' patterns cannot be checked by this browser' : '') + '.';
      status.setAttribute('data-ready', 'true');
      document.body.setAttribute('data-ready', 'true');
      if (ta.value) test(ta.value);
    }, function (e) {
      status.textContent = 'The lists could not be loaded: ' + e.message;
    });
  });
})();
