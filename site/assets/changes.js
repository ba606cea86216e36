/*
 * changes.js: the changes page's list filter.  The table is static (every
 * row carries data-list); the filter hides the rows of other lists and
 * keeps the choice in the URL (changes.html#list=watch-keyword).
 */
(function () {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    var sel = document.getElementById('list-filter');
    var status = document.getElementById('status');
    var rows = document.querySelectorAll('#changes tbody tr[data-list]');
    if (!sel) return;
    function apply() {
      var v = sel.value, n = 0;
      rows.forEach(function (r) {
        var show = !v || r.getAttribute('data-list') === v;
        r.hidden = !show;
        if (show) n++;
      });
      status.textContent = v ? n + ' changes to ' + v : n + ' changes';
    }
    var m = /^#list=(.+)$/.exec(location.hash);
    if (m) sel.value = decodeURIComponent(m[1]);
    sel.addEventListener('change', function () {
      history.replaceState(null, '', sel.value ? '#list=' + encodeURIComponent(sel.value) :
        location.pathname + location.search);
      apply();
    });
    document.getElementById('filter').addEventListener('submit',
      function (ev) { ev.preventDefault(); });
    apply();
  });
})();
