/* Flask-Store: progressive enhancement for upload forms and delete buttons.
   Every form works without this file; with it, files upload as soon as they
   are chosen or dropped, each with its own progress bar, and deleting asks
   for confirmation in place. No inline code: it runs under a strict CSP. */
(function () {
  "use strict";

  /* Decimal units, as the server writes them (flask_store.humanize). */
  function humanSize(bytes) {
    if (bytes < 1000) return bytes + (bytes === 1 ? " byte" : " bytes");
    var units = ["kB", "MB", "GB", "TB", "PB"];
    var size = bytes;
    var unit = "";
    for (var i = 0; i < units.length; i++) {
      size /= 1000;
      unit = units[i];
      if (Math.round(size * 10) / 10 < 1000) break;
    }
    return size.toFixed(1).replace(/\.0$/, "") + " " + unit;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* What the server would refuse anyway, said before sending the bytes. */
  function refusal(form, file) {
    var allowed = form.dataset.allowed;
    if (allowed !== undefined) {
      var extensions = allowed.split(" ").filter(Boolean);
      var name = file.name.toLowerCase();
      var ok = extensions.some(function (ext) { return name.endsWith("." + ext); });
      if (!ok) {
        var listed = extensions.map(function (ext) { return "." + ext; }).join(", ") || "none";
        return file.name + " is not an allowed type (allowed: " + listed + ").";
      }
    }
    var maxSize = form.dataset.maxSize;
    if (maxSize !== undefined && file.size > Number(maxSize)) {
      return file.name + " is larger than " + humanSize(Number(maxSize)) +
        ", the largest file allowed.";
    }
    return null;
  }

  function progressItem(list, file) {
    var item = element("li", "fs-progress-item");
    item.appendChild(element("span", "fs-progress-name", file.name));
    var status = element("span", "fs-progress-status", "Waiting…");
    item.appendChild(status);
    var bar = element("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + file.name);
    item.appendChild(bar);
    list.appendChild(item);
    return {
      progress: function (percent) {
        bar.value = percent;
        status.textContent = Math.round(percent) + "%";
      },
      done: function () {
        bar.value = 100;
        item.classList.add("fs-done");
        status.textContent = "Uploaded";
      },
      fail: function (message) {
        item.classList.add("fs-failed");
        status.textContent = message;
        status.setAttribute("role", "alert");
      }
    };
  }

  function errorFrom(xhr, json) {
    if (json) {
      var files = json.files || [];
      for (var i = 0; i < files.length; i++) {
        if (files[i].errors && files[i].errors.length) return files[i].errors.join(" ");
      }
      if (json.error) return json.error;
    }
    if (xhr.status === 413) return "The file is too large for this site.";
    return "The upload failed (" + (xhr.status || "no response") + ").";
  }

  /* POST one file with the form's other fields; resolve with the outcome. */
  function send(form, input, file, ui) {
    return new Promise(function (resolve) {
      var data = new FormData(form);
      data.delete(input.name);
      data.append(input.name, file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) ui.progress((event.loaded / event.total) * 100);
      });
      xhr.addEventListener("load", function () {
        var json = null;
        if ((xhr.getResponseHeader("Content-Type") || "").indexOf("json") !== -1) {
          try { json = JSON.parse(xhr.responseText); } catch (ignored) { json = null; }
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          ui.done();
          resolve({
            ok: true,
            json: json,
            url: xhr.responseURL,
            html: json ? null : xhr.responseText
          });
        } else {
          ui.fail(errorFrom(xhr, json));
          resolve({ ok: false });
        }
      });
      xhr.addEventListener("error", function () {
        ui.fail("Network error: the upload did not complete.");
        resolve({ ok: false });
      });
      ui.progress(0);
      xhr.send(data);
    });
  }

  function enhanceUpload(form) {
    if (form.dataset.fsEnhanced) return;
    var input = form.querySelector('input[type="file"]');
    var list = form.querySelector(".fs-progress");
    if (!input || !list || !window.FormData) return;
    form.dataset.fsEnhanced = "1";
    form.classList.add("fs-enhanced");
    var zone = form.querySelector("[data-drop-zone]") || form;
    var queue = [];
    var running = false;

    /* Files chosen or dropped while others are uploading wait their turn. */
    function upload(fileList) {
      var files = Array.prototype.slice.call(fileList || []);
      if (!files.length) return;
      list.hidden = false;
      files.forEach(function (file) {
        queue.push({ file: file, ui: progressItem(list, file) });
      });
      input.value = "";
      if (!running) drain();
    }

    async function drain() {
      running = true;
      var allOk = true;
      var last = null;
      var added = 0;
      var refused = 0;
      while (queue.length) {
        var job = queue.shift();
        var message = refusal(form, job.file);
        if (message) {
          job.ui.fail(message);
          allOk = false;
          refused++;
          continue;
        }
        var outcome = await send(form, input, job.file, job.ui);
        allOk = allOk && outcome.ok;
        if (outcome.ok) {
          last = outcome;
          added++;
        } else {
          refused++;
        }
      }
      running = false;
      summarise(form, added, refused);
      form.dispatchEvent(new CustomEvent("flask-store:uploaded", {
        detail: { ok: allOk, added: added, refused: refused }
      }));
      if (!last) return;
      if (!allOk) {
        // Some files were stored, some refused: keep the messages in view
        // and bring the listing up to date around them.
        if (form.hasAttribute("data-reload")) refreshListing();
        return;
      }
      if (form.hasAttribute("data-reload")) {
        window.setTimeout(function () { window.location.reload(); }, 400);
      } else if (!last.json && last.url) {
        if (last.url !== form.action) {
          // The form's view redirected, as views do after a change: follow.
          window.location.assign(last.url);
        } else {
          // It answered with a page (its form with messages): show that page.
          document.open();
          document.write(last.html);
          document.close();
        }
      }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (input.files && input.files.length) upload(input.files);
      else input.click();
    });
    input.addEventListener("change", function () { upload(input.files); });

    var targets = [zone];
    var overlay = null;
    if (form.hasAttribute("data-page-drop")) {
      targets.push(document.documentElement);
      overlay = element("div", "fs-drop-overlay", "Drop files to upload");
      overlay.hidden = true;
      document.body.appendChild(overlay);
    }
    var depth = 0;
    function highlight(on) {
      zone.classList.toggle("fs-dragover", on);
      if (overlay) overlay.hidden = !on;
    }
    function hasFiles(event) {
      var types = event.dataTransfer ? event.dataTransfer.types : [];
      return Array.prototype.indexOf.call(types, "Files") !== -1;
    }
    targets.forEach(function (target) {
      target.addEventListener("dragenter", function (event) {
        if (!hasFiles(event)) return;
        event.preventDefault();
        depth++;
        highlight(true);
      });
      target.addEventListener("dragover", function (event) {
        if (!hasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
      });
      target.addEventListener("dragleave", function () {
        depth = Math.max(0, depth - 1);
        if (!depth) highlight(false);
      });
      target.addEventListener("drop", function (event) {
        if (!event.dataTransfer || !event.dataTransfer.files.length) return;
        event.preventDefault();
        event.stopPropagation();
        depth = 0;
        highlight(false);
        upload(event.dataTransfer.files);
      });
    });
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  /* "Added 3 files" (and how many were refused) once a batch is done. */
  function summarise(form, added, refused) {
    var summary = form.querySelector(".fs-summary");
    if (!summary) {
      summary = element("p", "fs-summary");
      summary.setAttribute("role", "status");
      form.querySelector(".fs-progress").insertAdjacentElement("afterend", summary);
    }
    var text = "Added " + plural(added, "file") + ".";
    if (refused) text += " " + plural(refused, "file") + " refused, see above.";
    summary.textContent = text;
  }

  /* Replace the admin's listing with the server's current one. */
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
    var forms = document.querySelectorAll("form[data-flask-store-upload]");
    Array.prototype.forEach.call(forms, enhanceUpload);
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
