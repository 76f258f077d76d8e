/* Flask-Store's admin pages, beside flask_store.js: the listing's "select
   all" box, deleting with a confirmation in place, keyboard focus on a
   change's message, and the listing brought up to date after uploads of
   which some were refused. No inline code: it runs under a strict CSP. */
(function () {
  "use strict";

  /* The "select all" box of the listing's checkboxes (hidden without JS). */
  function enhanceSelection(root) {
    var all = root.querySelector("[data-select-all]");
    if (!all) return;
    var boxes = root.querySelectorAll('input[type="checkbox"][name="paths"]');
    if (!boxes.length) return;
    all.hidden = false;
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes, function (box) { box.checked = all.checked; });
    });
    Array.prototype.forEach.call(boxes, function (box) {
      box.addEventListener("change", function () {
        var checked = Array.prototype.filter.call(boxes, function (b) { return b.checked; });
        all.checked = checked.length === boxes.length;
        all.indeterminate = checked.length > 0 && checked.length < boxes.length;
      });
    });
  }

  /* Replace the listing with the server's current one. */
  function refreshListing() {
    var current = document.querySelector(".fs-listing");
    if (!current || !window.fetch) return;
    fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".fs-listing");
        if (fresh) {
          current.replaceWith(fresh);
          enhanceSelection(fresh);
        }
      });
  }

  /* A batch of which some files were stored and some not keeps its messages
     in view (no reload): the listing around them catches up. */
  document.addEventListener("flask-store:uploaded", function (event) {
    var detail = event.detail || {};
    if (!detail.ok && detail.added && event.target.hasAttribute("data-reload")) refreshListing();
  });

  /* After a change, the page's message is where keyboard focus goes. */
  function focusResult() {
    var result = document.querySelector(".fs-flashes");
    if (!result) return;
    result.setAttribute("tabindex", "-1");
    result.focus();
  }

  /* Delete buttons: confirm here instead of on a second page. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    var confirmed = form.querySelector('input[name="confirmed"]');
    if (!confirmed || confirmed.value === "yes") return;
    event.preventDefault();
    if (window.confirm(form.getAttribute("data-confirm"))) {
      confirmed.value = "yes";
      form.submit();
    }
  });

  function init() {
    var listing = document.querySelector(".fs-listing");
    if (listing) enhanceSelection(listing);
    focusResult();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
