/*
 * common.js: what every page of the Helios site shares.  Loaded with
 * defer; no inline script anywhere (the pages' Content-Security-Policy
 * forbids it).
 *
 *  - Copy buttons (data-copy="relative/path"): copy the file's absolute
 *    URL, as seen from this page, so the URLs are right on every mirror and
 *    under any sub-path.
 *  - <code data-curl="path">: a curl command with the absolute URL.
 *  - data-manifest="version|expires": filled from manifest.json, the
 *    source of truth, when the page is served over HTTP.
 *  - Helios.loadJSON(url): a JSON file, fetched gzip-compressed where
 *    possible (DecompressionStream), parsed.
 *  - Helios.loadList(url): a list's JSON; a big list's index of segments
 *    (docs/protocol.html, section 4a) is assembled: each segment fetched
 *    as objects/<sha256>.gz, a name built from a checked hash, and their
 *    items concatenated in order.
 *  - Helios.daemon: a promise of true when the page is served by the
 *    Helios daemon (its X-Helios-Test header names POST /test).
 */
(function () {
  'use strict';
  var H = window.Helios = window.Helios || {};
  var served = location.protocol === 'http:' || location.protocol === 'https:';
  H.served = served;

  H.abs = function (path) {
    return new URL(path, location.href).href;
  };

  H.fmtDate = function (t) {
    if (!t) return '';
    var d = new Date(t * 1000);
    return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  };

  H.announce = function (msg) {
    var el = document.getElementById('announce');
    if (!el) {
      el = document.createElement('p');
      el.id = 'announce';
      el.className = 'sr';
      el.setAttribute('role', 'status');
      el.setAttribute('aria-live', 'polite');
      document.body.appendChild(el);
    }
    el.textContent = msg;
  };

  function isGzip(buf) {
    var b = new Uint8Array(buf, 0, Math.min(2, buf.byteLength));
    return b.length === 2 && b[0] === 0x1f && b[1] === 0x8b;
  }

  /* Fetches url (a .json.gz or .json); some servers already undid the
     gzip (Content-Encoding), so look at the bytes. */
  H.loadJSON = function (url) {
    return fetch(url, { cache: 'no-cache' }).then(function (r) {
      if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
      return r.arrayBuffer();
    }).then(function (buf) {
      if (isGzip(buf) && typeof DecompressionStream === 'function') {
        var s = new Blob([buf]).stream()
          .pipeThrough(new DecompressionStream('gzip'));
        return new Response(s).text();
      }
      if (isGzip(buf)) throw new Error('this browser cannot gunzip');
      return new TextDecoder().decode(buf);
    }).then(JSON.parse);
  };

  H.loadList = function (url) {
    return H.loadJSON(url).then(function (doc) {
      if (!Array.isArray(doc.segments)) return doc;
      return Promise.all(doc.segments.map(function (g) {
        if (!g || typeof g.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(g.sha256))
          throw new Error(url + ': a segment without a valid sha256');
        return H.loadJSON('objects/' + g.sha256 + '.gz').then(function (seg) {
          if (!seg || !Array.isArray(seg.items) || seg.items.length !== g.items)
            throw new Error('objects/' + g.sha256 + ': not ' + g.items + ' items');
          return seg.items;
        });
      })).then(function (parts) {
        doc.items = [].concat.apply([], parts);
        delete doc.segments;
        return doc;
      });
    });
  };

  /* The value of an item, whatever the list's key. */
  H.itemValue = function (it) {
    if (Array.isArray(it.ns)) return it.ns.join(' ');
    var v = it.text_pattern;
    if (v === undefined) v = it.pattern;
    if (v === undefined) v = it.ip;
    if (v === undefined) v = it.ns;
    if (v === undefined) v = it.asn;
    return v === undefined ? '' : String(v);
  };

  var manifest = null;
  H.daemon = Promise.resolve(false);
  if (served) {
    manifest = fetch('manifest.json', { cache: 'no-cache' }).then(function (r) {
      if (!r.ok) throw new Error('manifest.json: HTTP ' + r.status);
      H.testUrl = r.headers.get('X-Helios-Test');
      return r.json();
    });
    H.daemon = manifest.then(function () { return !!H.testUrl; },
      function () { return false; });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext)
      return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.className = 'offscreen';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      if (ok) resolve(); else reject(new Error('copy refused'));
    });
  }
  H.copy = copyText;

  document.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('button[data-copy]');
    if (!b) return;
    var url = H.abs(b.getAttribute('data-copy'));
    copyText(url).then(function () {
      b.textContent = 'Copied';
      H.announce('Copied ' + url);
      setTimeout(function () { b.textContent = 'Copy URL'; }, 1500);
    }, function () {
      H.announce('Copy failed; the URL is ' + url);
    });
  });

  document.addEventListener('DOMContentLoaded', function () {
    var i, els = document.querySelectorAll('code[data-curl]');
    if (served) {
      for (i = 0; i < els.length; i++)
        els[i].textContent = 'curl --compressed -O ' +
          H.abs(els[i].getAttribute('data-curl'));
    }
    if (!manifest) return;
    manifest.then(function (m) {
      var v = document.querySelectorAll('[data-manifest="version"]');
      for (i = 0; i < v.length; i++) v[i].textContent = String(m.version);
      var e = document.querySelectorAll('[data-manifest="expires"]');
      for (i = 0; i < e.length; i++) {
        e[i].textContent = '';
        var t = document.createElement('time');
        t.dateTime = new Date(m.expires_at * 1000).toISOString();
        t.textContent = H.fmtDate(m.expires_at);
        e[i].appendChild(t);
        e[i].appendChild(document.createTextNode(
          ' (generated ' + H.fmtDate(m.generated_at) + ')'));
      }
    }, function () { /* the static text stays */ });
  });
})();
