/* Flask-Store: progressive enhancement for upload forms. Every form works
   without this file; with it, files upload as soon as they are chosen or
   dropped. This file finds the forms, takes their files and holds what the
   other scripts share (requests that can be cancelled, the server's answers
   said for the user). The uploads themselves (progress bars, Cancel, the
   form posts) are in flask_store_uploads.js, and the transfers of a form
   with data-direct in flask_store_transfers.js, both loaded from beside
   this file when the page has an upload form: a page links this file only.
   The admin's pages add flask_store_admin.js. No inline code: it runs under
   a strict CSP. */
(function () {
  "use strict";

  var SCRIPT = (document.currentScript ||
    document.querySelector('script[src*="flask_store.js"]') || {}).src || "";

  var EXPIRED_MESSAGE = "Your session has expired: reload the page and upload again.";
  /* What Flask-WTF, the admin and the upload endpoints answer for an expired
     CSRF token or upload grant (case matters: "csrf_token" is a field name). */
  var EXPIRED = /\bCSRF\b|security token|upload permission has expired/;

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

  /* Shared with the scripts loaded beside this one, which add theirs. */
  var shared = window.FlaskStore = window.FlaskStore || {};
  shared.Task = Task;
  shared.request = request;
  shared.failure = failure;

  /* The script flask_store_<name>.js beside this one, loaded once; resolves
     with what it adds to window.FlaskStore under ``name``. */
  var loading = {};
  function load(name) {
    if (shared[name]) return Promise.resolve(shared[name]);
    if (!loading[name]) {
      loading[name] = new Promise(function (resolve, reject) {
        var src = SCRIPT.replace(/flask_store\.js(\?|#|$)/, "flask_store_" + name + ".js$1");
        var script = document.createElement("script");
        function failed() {
          delete loading[name];
          script.remove();
          reject(failure("refused", "The page's upload script did not load: reload the page."));
        }
        if (src === SCRIPT) {
          failed();
          return;
        }
        script.src = src;
        script.addEventListener("load", function () {
          if (shared[name]) resolve(shared[name]);
          else failed();
        });
        script.addEventListener("error", failed);
        document.head.appendChild(script);
      });
    }
    return loading[name];
  }
  shared.load = load;

  /* The upload script, and the transfers' if the form sends files itself. */
  function scripts(form) {
    var wanted = [load("uploads")];
    if (form.dataset.direct) wanted.push(load("transfers"));
    return Promise.all(wanted);
  }

  /* Said in the form when its files cannot be sent at all. */
  function unsent(form, error) {
    var list = form.querySelector(".fs-progress");
    var item = document.createElement("li");
    item.className = "fs-progress-item fs-failed";
    item.textContent = error.message;
    item.setAttribute("role", "alert");
    list.hidden = false;
    list.appendChild(item);
  }

  function enhanceUpload(form) {
    if (form.dataset.fsEnhanced) return;
    var input = form.querySelector('input[type="file"]');
    var list = form.querySelector(".fs-progress");
    if (!input || !list || !window.FormData) return;
    form.dataset.fsEnhanced = "1";
    form.classList.add("fs-enhanced");
    scripts(form).catch(function () {});  // ready before a file is chosen
    var zone = form.querySelector("[data-drop-zone]") || form;

    function upload(fileList) {
      var files = Array.prototype.slice.call(fileList || []);
      if (!files.length) return;
      input.value = "";
      load("uploads").then(function (uploads) {
        uploads.add(form, files);
      }, function (error) { unsent(form, error); });
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
      overlay = document.createElement("div");
      overlay.className = "fs-drop-overlay";
      overlay.textContent = "Drop files to upload";
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

  function init() {
    var forms = document.querySelectorAll("form[data-flask-store-upload]");
    Array.prototype.forEach.call(forms, enhanceUpload);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
