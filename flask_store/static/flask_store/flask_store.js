/* Flask-Store: progressive enhancement for upload forms and delete buttons.
   Every form works without this file; with it, files upload as soon as they
   are chosen or dropped (three at a time), each with its own progress bar,
   bytes and time left and a Cancel button, and deleting asks for
   confirmation in place. A form with data-direct sends large files through
   flask_store_transfers.js (loaded from beside this file when needed). No
   inline code: it runs under a strict CSP. */
(function () {
  "use strict";

  /* Files uploading at the same time, per form. */
  var PARALLEL = 3;
  var EXPIRED_MESSAGE = "Your session has expired: reload the page and upload again.";
  /* What Flask-WTF, the admin and the upload endpoints answer for an expired
     CSRF token or upload grant (case matters: "csrf_token" is a field name). */
  var EXPIRED = /\bCSRF\b|security token|upload permission has expired/;
  var SCRIPT = (document.currentScript ||
    document.querySelector('script[src*="flask_store.js"]') || {}).src || "";

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

  /* A rough duration: "about 20 s left". */
  function timeLeft(seconds) {
    if (seconds < 60) return "about " + Math.max(1, Math.round(seconds)) + " s left";
    if (seconds < 3600) return "about " + Math.round(seconds / 60) + " min left";
    return "about " + (seconds / 3600).toFixed(1).replace(/\.0$/, "") + " h left";
  }

  /* One file's requests, so that Cancel stops them all. ``cleanup``, set by
     a transfer, undoes what the server started (a tus or multipart upload). */
  function Task() {
    this.cancelled = false;
    this.requests = [];
    this.listeners = [];
    this.cleanup = null;
  }
  Task.prototype.cancel = function () {
    if (this.cancelled) return;
    this.cancelled = true;
    this.requests.slice().forEach(function (xhr) { xhr.abort(); });
    this.listeners.forEach(function (listener) { listener(); });
  };
  Task.prototype.onCancel = function (listener) { this.listeners.push(listener); };

  /* kind: "network" (worth trying again), "cancelled" or "refused". */
  function failure(kind, message, status) {
    var error = new Error(message);
    error.kind = kind;
    error.status = status || 0;
    return error;
  }

  function cancelled() { return failure("cancelled", "Cancelled"); }

  /* A request by XMLHttpRequest, which reports upload progress and can be
     aborted; resolves with the answer whatever its status. */
  function request(task, method, url, options) {
    options = options || {};
    return new Promise(function (resolve, reject) {
      if (task.cancelled) { reject(cancelled()); return; }
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      var headers = options.headers || {};
      Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (options.onProgress) {
        xhr.upload.addEventListener("progress", function (event) {
          options.onProgress(event.loaded, event.lengthComputable ? event.total : 0);
        });
      }
      if (options.onSent) xhr.upload.addEventListener("load", options.onSent);
      task.requests.push(xhr);
      function settle(callback) {
        return function () {
          task.requests.splice(task.requests.indexOf(xhr), 1);
          callback();
        };
      }
      xhr.addEventListener("load", settle(function () { resolve(new Answer(xhr)); }));
      xhr.addEventListener("error", settle(function () {
        reject(failure("network", "Network error: the upload did not complete."));
      }));
      xhr.addEventListener("abort", settle(function () { reject(cancelled()); }));
      xhr.send(options.body === undefined ? null : options.body);
    });
  }

  function Answer(xhr) {
    this.xhr = xhr;
    this.status = xhr.status;
    this.url = xhr.responseURL;
    this.text = xhr.responseText;
    this.json = null;
    if ((this.header("Content-Type") || "").indexOf("json") !== -1) {
      try { this.json = JSON.parse(this.text); } catch (ignored) { this.json = null; }
    }
  }
  Answer.prototype.header = function (name) { return this.xhr.getResponseHeader(name); };
  Answer.prototype.ok = function () { return this.status >= 200 && this.status < 300; };

  /* A short text answer's words: S3's XML <Message>, an error page's text. */
  Answer.prototype.plainText = function () {
    var type = (this.header("Content-Type") || "").split(";")[0].trim();
    var text = this.text || "";
    if (/[+/]xml$|\/html$/.test(type)) {
      var doc = new DOMParser().parseFromString(text, /html$/.test(type) ? "text/html" : "application/xml");
      var node = doc.querySelector("Message") || doc.querySelector("p") || doc.documentElement;
      text = node ? node.textContent : "";
    }
    text = text.replace(/\s+/g, " ").trim();
    return text.length > 300 ? "" : text;
  };

  /* What went wrong, said for the user. */
  Answer.prototype.message = function () {
    var said = "";
    if (this.json) {
      var files = this.json.files || [];
      for (var i = 0; i < files.length && !said; i++) {
        if (files[i].errors && files[i].errors.length) said = files[i].errors.join(" ");
      }
      said = said || this.json.error || this.json.message || "";
    } else {
      said = this.plainText();
    }
    if ((this.status === 400 || this.status === 403) &&
        (EXPIRED.test(said) || (!this.json && EXPIRED.test(this.text || "")))) {
      return EXPIRED_MESSAGE;
    }
    if (said) return said;
    if (this.status === 413) return "The file is too large for this site.";
    return "The upload failed (" + (this.status || "no response") + ").";
  };

  /* Shared with flask_store_transfers.js, which adds ``transfers``. */
  window.FlaskStore = window.FlaskStore || {};
  window.FlaskStore.Task = Task;
  window.FlaskStore.request = request;
  window.FlaskStore.failure = failure;

  var transfersLoading = null;
  function loadTransfers() {
    if (window.FlaskStore.transfers) return Promise.resolve(window.FlaskStore.transfers);
    if (!transfersLoading) {
      transfersLoading = new Promise(function (resolve, reject) {
        var src = SCRIPT.replace(/flask_store\.js(\?|#|$)/, "flask_store_transfers.js$1");
        var script = document.createElement("script");
        function failed() {
          transfersLoading = null;
          script.remove();
          reject(failure("refused", "The page's upload script did not load: reload the page."));
        }
        if (src === SCRIPT) {
          failed();
          return;
        }
        script.src = src;
        script.addEventListener("load", function () {
          if (window.FlaskStore.transfers) resolve(window.FlaskStore.transfers);
          else failed();
        });
        script.addEventListener("error", failed);
        document.head.appendChild(script);
      });
    }
    return transfersLoading;
  }

  /* "tus" or "s3" when the form sends this file by itself (data-direct and
     at least data-direct-min bytes); null: it is posted with the form. */
  function directKind(form, file) {
    var kind = form.dataset.direct;
    if (kind !== "tus" && kind !== "s3") return null;
    if (file.size < Number(form.dataset.directMin || 0)) return null;
    return kind;
  }

  function transferOptions(form, job) {
    var location = form.elements.namedItem("location");
    return {
      file: job.file,
      task: job.task,
      ui: job.ui,
      url: new URL(form.dataset.directUrl || "", window.location.href).href,
      grant: form.dataset.uploadGrant || "",
      chunkSize: Math.max(1, Number(form.dataset.chunkSize) || 8 * 1024 * 1024),
      location: (location && location.value) || ""
    };
  }

  function progressItem(list, file, onCancel) {
    var item = element("li", "fs-progress-item");
    item.appendChild(element("span", "fs-progress-name", file.name));
    var status = element("span", "fs-progress-status", "Waiting…");
    item.appendChild(status);
    var cancel = element("button", "fs-cancel", "Cancel");
    cancel.type = "button";
    cancel.setAttribute("aria-label", "Cancel upload of " + file.name);
    cancel.addEventListener("click", onCancel);
    item.appendChild(cancel);
    var bar = element("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + file.name);
    item.appendChild(bar);
    list.appendChild(item);
    var started = null;
    var first = 0;

    /* No more Cancel once the bytes are sent; focus stays on this file. */
    function settled() {
      if (!cancel.isConnected) return;
      var focused = document.activeElement === cancel;
      cancel.remove();
      if (focused) {
        status.setAttribute("tabindex", "-1");
        status.focus();
      }
    }
    return {
      progress: function (sent, total) {
        var now = Date.now();
        if (started === null) {
          started = now;
          first = sent;
        }
        bar.value = total ? (sent / total) * 100 : 100;
        var text = humanSize(sent) + " of " + humanSize(total);
        var seconds = (now - started) / 1000;
        if (seconds >= 1 && sent > first && sent < total) {
          text += ", " + timeLeft((total - sent) / ((sent - first) / seconds));
        }
        status.textContent = text;
      },
      offline: function () {
        started = null;  // the time left is measured again once back online
        status.textContent = "Offline: the upload goes on when the network is back.";
      },
      sent: function () {
        settled();
        status.textContent = "Saving…";
      },
      cancelling: function () {
        cancel.disabled = true;
        status.textContent = "Cancelling…";
      },
      cancelled: function () {
        settled();
        item.classList.add("fs-cancelled");
        status.textContent = "Cancelled";
      },
      done: function () {
        settled();
        bar.value = 100;
        item.classList.add("fs-done");
        status.textContent = "Uploaded";
      },
      fail: function (message) {
        settled();
        item.classList.add("fs-failed");
        status.textContent = message;
        status.setAttribute("role", "alert");
      }
    };
  }

  /* POST the form with ``value`` (the file, or a direct upload's receipt)
     as the file input's value; resolves with the answer. */
  function post(form, input, value, job) {
    var data = new FormData(form);
    data.delete(input.name);
    var file = typeof value === "string" ? null : value;
    if (file) data.append(input.name, file, file.name);
    else data.append(input.name, value);
    if (file) job.ui.progress(0, file.size);
    return request(job.task, "POST", form.action, {
      headers: { Accept: "application/json" },
      body: data,
      onProgress: file && function (loaded, total) {
        job.ui.progress(Math.round(file.size * (total ? loaded / total : 0)), file.size);
      },
      onSent: function () { job.ui.sent(); }
    });
  }

  /* Live transfers in the page, for the warning before leaving it. */
  var running = 0;
  window.addEventListener("beforeunload", function (event) {
    if (!running) return;
    event.preventDefault();
    event.returnValue = "";
  });

  function enhanceUpload(form) {
    if (form.dataset.fsEnhanced) return;
    var input = form.querySelector('input[type="file"]');
    var list = form.querySelector(".fs-progress");
    if (!input || !list || !window.FormData) return;
    form.dataset.fsEnhanced = "1";
    form.classList.add("fs-enhanced");
    if (form.dataset.direct) loadTransfers().catch(function () {});
    var zone = form.querySelector("[data-drop-zone]") || form;
    var queue = [];
    var active = 0;
    var batch = null;

    /* Files chosen or dropped while others upload join the same batch. */
    function upload(fileList) {
      var files = Array.prototype.slice.call(fileList || []);
      if (!files.length) return;
      list.hidden = false;
      files.forEach(function (file) {
        var job = { file: file, task: new Task(), started: false };
        job.ui = progressItem(list, file, function () { cancelJob(job); });
        queue.push(job);
      });
      input.value = "";
      pump();
    }

    function cancelJob(job) {
      if (job.started) {
        job.task.cancel();
        return;
      }
      queue.splice(queue.indexOf(job), 1);
      job.ui.cancelled();
      batch.cancelled++;
      if (!active && !queue.length) finish();
    }

    function pump() {
      batch = batch || { added: 0, refused: 0, cancelled: 0, last: null };
      while (active < PARALLEL && queue.length) {
        var job = queue.shift();
        job.started = true;
        active++;
        running++;
        run(job).then(function (outcome) {
          active--;
          running--;
          if (outcome.cancelled) batch.cancelled++;
          else if (outcome.ok) {
            batch.added++;
            batch.last = outcome.answer;
          } else batch.refused++;
          if (!active && !queue.length) finish();
          else pump();
        });
      }
    }

    async function run(job) {
      var message = refusal(form, job.file);
      if (message) {
        job.ui.fail(message);
        return { ok: false };
      }
      try {
        var value = job.file;
        var kind = directKind(form, job.file);
        if (kind) {
          var transfers = await loadTransfers();
          value = await transfers[kind](transferOptions(form, job));
          job.ui.sent();
        }
        var answer = await post(form, input, value, job);
        if (!answer.ok()) {
          job.ui.fail(answer.message());
          return { ok: false };
        }
        job.ui.done();
        return { ok: true, answer: answer };
      } catch (error) {
        if (error.kind !== "cancelled" && !job.task.cancelled) {
          job.ui.fail(error.message);
          return { ok: false };
        }
        if (job.task.cleanup) {
          job.ui.cancelling();
          await job.task.cleanup().catch(function () {});
        }
        job.ui.cancelled();
        return { cancelled: true };
      }
    }

    function finish() {
      var done = batch;
      batch = null;
      var allOk = !done.refused && !done.cancelled;
      summarise(form, done);
      form.dispatchEvent(new CustomEvent("flask-store:uploaded", {
        detail: { ok: allOk, added: done.added, refused: done.refused, cancelled: done.cancelled }
      }));
      var last = done.last;
      if (!last) return;
      if (!allOk) {
        // Some files were stored, some not: keep the messages in view and
        // bring the listing up to date around them.
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
          document.write(last.text);
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

  /* "Added 3 files" (and how many were refused or cancelled) after a batch. */
  function summarise(form, done) {
    var summary = form.querySelector(".fs-summary");
    if (!summary) {
      summary = element("p", "fs-summary");
      summary.setAttribute("role", "status");
      form.querySelector(".fs-progress").insertAdjacentElement("afterend", summary);
    }
    var text = "Added " + plural(done.added, "file") + ".";
    if (done.refused) text += " " + plural(done.refused, "file") + " refused, see above.";
    if (done.cancelled) text += " " + plural(done.cancelled, "file") + " cancelled.";
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
