/* Gatehouse console: the few behaviours that need a script. Loaded as a static file so the
   Content-Security-Policy can forbid inline scripts (script-src 'self'). */
(function () {
  "use strict";

  // Forms that change something ask once more: <form data-confirm="Approve this change?">
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // A "choose all" checkbox for the checkboxes of one form (bulk acknowledge on the alerts
  // page): <input type="checkbox" data-check-all="FORM-ID">.
  document.querySelectorAll("input[data-check-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      var form = all.getAttribute("data-check-all");
      document.querySelectorAll('input[type=checkbox][form="' + form + '"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });

  // Show only the fields of the chosen schedule kind (interval or crontab).
  function syncScheduleKind(select) {
    var form = select.form;
    if (!form) return;
    form.querySelectorAll("[data-schedule-kind]").forEach(function (group) {
      group.hidden = group.getAttribute("data-schedule-kind") !== select.value;
    });
  }
  document.querySelectorAll("select[data-schedule-kind-select]").forEach(function (select) {
    syncScheduleKind(select);
    select.addEventListener("change", function () { syncScheduleKind(select); });
  });
})();
