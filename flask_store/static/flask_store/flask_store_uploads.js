/* Flask-Store: the uploads of a page's upload forms, loaded by
   flask_store.js once the page has one. Files upload three at a time per
   form, each on its own request with its own progress bar, bytes and time
   left and a Cancel button; a file the form sends by itself (data-direct)
   goes through flask_store_transfers.js first, and the form is then posted
   with its receipt. No inline code: it runs under a strict CSP. */
(function () {
  "use strict";

  var shared = window.FlaskStore;
  var Task = shared.Task;
  var request = shared.request;

  /* Files uploading at the same time, per form. */
  var PARALLEL = 3;

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

  /* The files of one form: a queue, three at a time, and the batch they
     make until all are done. */
  function Uploads(form) {
    var input = form.querySelector('input[type="file"]');
    var list = form.querySelector(".fs-progress");
    var queue = [];
    var active = 0;
    var batch = null;

    /* Files chosen or dropped while others upload join the same batch. */
    this.add = function (files) {
      list.hidden = false;
      files.forEach(function (file) {
        var job = { file: file, task: new Task(), started: false };
        job.ui = progressItem(list, file, function () { cancelJob(job); });
        queue.push(job);
      });
      pump();
    };

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
          var transfers = await shared.load("transfers");
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

    /* Say how the batch went, then show the view's answer: follow its
       redirect, show its page, or reload (data-reload). Some files stored
       and some not: the messages stay in view, and the form's data-refresh
       part of the page (or the admin's listing, on flask-store:uploaded) is
       brought up to date. */
    function finish() {
      var done = batch;
      batch = null;
      var allOk = !done.refused && !done.cancelled;
      summarise(form, done);
      form.dispatchEvent(new CustomEvent("flask-store:uploaded", {
        bubbles: true,
        detail: { ok: allOk, added: done.added, refused: done.refused, cancelled: done.cancelled }
      }));
      var last = done.last;
      if (!allOk && done.added && form.dataset.refresh) refresh(form.dataset.refresh);
      if (!last || !allOk) return;
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
  }

  /* Some files stored and some refused: no reload, so that the messages stay
     in view, but the part of the page that lists what is stored (the
     macro's ``refresh`` selector) is replaced with the server's current one. */
  function refresh(selector) {
    if (!window.fetch || !document.querySelector(selector)) return;
    fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var current = document.querySelector(selector);
        var fresh = html && new DOMParser().parseFromString(html, "text/html").querySelector(selector);
        if (current && fresh) current.replaceWith(fresh);
      })
      .catch(function () {});
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
    // Keyboard focus moves from the file input to the result; not from a
    // file's own row (a cancel) or from anywhere the user went meanwhile.
    var active = document.activeElement;
    if (!active || active === document.body || active.type === "file") {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  }

  var forms = new WeakMap();
  shared.uploads = {
    /* Upload ``files`` (an array of File) with ``form``. */
    add: function (form, files) {
      if (!forms.has(form)) forms.set(form, new Uploads(form));
      forms.get(form).add(files);
    }
  };
})();
