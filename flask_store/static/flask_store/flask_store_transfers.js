/* Flask-Store: files that travel without the form post, for forms with
   data-direct. "tus" sends a file to the app in chunks (tus 1.0); "s3" sends
   it straight to the bucket (one presigned POST, or a multipart upload of
   parts signed by the app). Both go on after a network cut or a page reload
   and end with a receipt, which flask_store_uploads.js then posts with the
   form instead of the file. Loaded by flask_store.js, whose requests it
   uses. */
(function () {
  "use strict";

  var shared = window.FlaskStore;
  var request = shared.request;
  var failure = shared.failure;
  var TUS_VERSION = "1.0.0";
  var PARTS_IN_FLIGHT = 3;
  /* Part URLs last as long as the upload may (STORE_UPLOAD_EXPIRES), so one
     request to the app signs many: 400 MiB of 8 MiB parts. */
  var PARTS_PER_SIGNING = 50;
  /* S3 takes at most this many parts: larger files get larger parts. */
  var MAX_PARTS = 10000;
  var MiB = 1024 * 1024;
  /* Tries after a network error while the browser is online, or a 5xx. */
  var RETRIES = 4;

  function refused(answer) {
    return failure("refused", answer.message(), answer.status);
  }

  function delay(task, ms) {
    return new Promise(function (resolve, reject) {
      var timer = window.setTimeout(resolve, ms);
      task.onCancel(function () {
        window.clearTimeout(timer);
        reject(failure("cancelled", "Cancelled"));
      });
    });
  }

  function backOnline(transfer) {
    transfer.ui.offline();
    return new Promise(function (resolve, reject) {
      function back() {
        window.removeEventListener("online", back);
        resolve();
      }
      window.addEventListener("online", back);
      transfer.task.onCancel(function () {
        window.removeEventListener("online", back);
        reject(failure("cancelled", "Cancelled"));
      });
    });
  }

  /* After a failed attempt: wait for the network if the browser is offline
     (the count starts again), else pause longer each time, up to RETRIES.
     Resolves with the new count of failures. */
  async function recover(transfer, failures, error) {
    if (!navigator.onLine) {
      await backOnline(transfer);
      return 0;
    }
    if (failures >= RETRIES) throw error;
    await delay(transfer.task, 500 * Math.pow(2, failures));
    return failures + 1;
  }

  /* A request, tried again after network errors. */
  async function persist(transfer, attempt) {
    var failures = 0;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (error.kind !== "network") throw error;
        failures = await recover(transfer, failures, error);
      }
    }
  }

  function headers(transfer, extra) {
    var all = { Accept: "application/json" };
    if (transfer.grant) all["Flask-Store-Grant"] = transfer.grant;
    Object.keys(extra || {}).forEach(function (name) { all[name] = extra[name]; });
    return all;
  }

  /* A JSON endpoint under data-direct-url; resolves with its JSON answer. */
  async function call(transfer, method, path, body) {
    var extra = body === undefined ? {} : { "Content-Type": "application/json" };
    var answer = await persist(transfer, function () {
      return request(transfer.task, method, transfer.url + path, {
        headers: headers(transfer, extra),
        body: body === undefined ? undefined : JSON.stringify(body)
      });
    });
    if (!answer.ok()) throw refused(answer);
    return answer.json || {};
  }

  /* Where a transfer is remembered across reloads, until done or cancelled. */
  function storageKey(kind, transfer) {
    var file = transfer.file;
    return "flask-store:" + JSON.stringify(
      [kind, transfer.url, transfer.location, file.name, file.size, file.lastModified]);
  }
  function recall(key) {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "null");
    } catch (ignored) {
      return null;
    }
  }
  function remember(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (ignored) { /* private mode */ }
  }
  function forget(key) {
    try { window.localStorage.removeItem(key); } catch (ignored) { /* private mode */ }
  }

  function base64(text) {
    var bytes = new TextEncoder().encode(text);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return window.btoa(binary);
  }

  /* tus 1.0: create (POST), send chunks (PATCH), ask where it stands (HEAD). */
  async function tus(transfer) {
    var file = transfer.file;
    var task = transfer.task;
    var key = storageKey("tus", transfer);
    function tusHeaders(extra) {
      return headers(transfer, Object.assign({ "Tus-Resumable": TUS_VERSION }, extra));
    }
    function finished(receipt) {
      forget(key);
      task.cleanup = null;
      return receipt;
    }
    /* {offset, receipt} from the server, or null if it has no such upload. */
    async function status(url) {
      var answer = await persist(transfer, function () {
        return request(task, "HEAD", url, { headers: tusHeaders() });
      });
      if (answer.status !== 200) return null;
      return {
        offset: Number(answer.header("Upload-Offset")),
        receipt: answer.header("Flask-Store-Receipt")
      };
    }

    var uploadUrl = recall(key);
    var found = uploadUrl ? await status(uploadUrl) : null;
    if (!found) {
      forget(key);
      var metadata = "filename " + base64(file.name);
      if (transfer.location) metadata += ",location " + base64(transfer.location);
      var created = await persist(transfer, function () {
        return request(task, "POST", transfer.url, {
          headers: tusHeaders({ "Upload-Length": String(file.size), "Upload-Metadata": metadata })
        });
      });
      if (created.status !== 201) throw refused(created);
      uploadUrl = new URL(created.header("Location"), transfer.url).href;
      found = { offset: 0, receipt: created.header("Flask-Store-Receipt") };
      remember(key, uploadUrl);
    }
    task.cleanup = function () {
      forget(key);
      return terminate(transfer, uploadUrl);
    };
    var offset = found.offset;
    var receipt = found.receipt;
    var failures = 0;
    var conflicts = 0;
    while (!receipt) {
      transfer.ui.progress(offset, file.size);
      var start = offset;
      var answer;
      try {
        answer = await request(task, "PATCH", uploadUrl, {
          headers: tusHeaders({
            "Upload-Offset": String(start),
            "Content-Type": "application/offset+octet-stream"
          }),
          body: file.slice(start, start + transfer.chunkSize),
          onProgress: function (loaded) { transfer.ui.progress(start + loaded, file.size); }
        });
      } catch (error) {
        if (error.kind !== "network") throw error;
        failures = await recover(transfer, failures, error);
        answer = null;
      }
      if (answer && answer.status === 204) {
        failures = conflicts = 0;
        offset = Number(answer.header("Upload-Offset"));
        receipt = answer.header("Flask-Store-Receipt");
        if (!receipt && offset >= file.size) {
          throw failure("refused", "The server did not confirm the upload: upload the file again.");
        }
        continue;
      }
      if (answer && (answer.status !== 409 || ++conflicts > 10)) {
        forget(key);
        throw refused(answer);
      }
      // The network failed, or the server holds other bytes than we thought
      // (a chunk cut off, still being read): ask it where to go on from.
      if (answer) await delay(task, 500);
      found = await status(uploadUrl);
      if (!found) {
        forget(key);
        throw failure("refused", "The server no longer has this upload: upload the file again.");
      }
      offset = found.offset;
      receipt = found.receipt;
    }
    transfer.ui.progress(file.size, file.size);
    return finished(receipt);
  }

  /* tus termination; the server may still be reading a chunk cut off. */
  async function terminate(transfer, url) {
    var task = new shared.Task();
    for (var i = 1; i <= 15; i++) {
      var answer = await request(task, "DELETE", url, {
        headers: headers(transfer, { "Tus-Resumable": TUS_VERSION })
      });
      if (answer.status !== 409) return;
      await delay(task, Math.min(300 * i, 1000));
    }
  }

  /* S3, in the shapes Uppy's @uppy/aws-s3 plugin calls. */
  function s3(transfer) {
    return transfer.file.size < 2 * transfer.chunkSize ? s3Post(transfer) : s3Multipart(transfer);
  }

  async function s3Post(transfer) {
    var file = transfer.file;
    var params = await call(transfer, "GET", "s3/params?filename=" + encodeURIComponent(file.name) +
      "&size=" + file.size + "&metadata%5Blocation%5D=" + encodeURIComponent(transfer.location));
    var data = new FormData();
    Object.keys(params.fields || {}).forEach(function (name) { data.append(name, params.fields[name]); });
    data.append("file", file, file.name);
    var answer = await persist(transfer, function () {
      return request(transfer.task, "POST", params.url, {
        body: data,
        onProgress: function (loaded, total) {
          transfer.ui.progress(Math.round(file.size * (total ? loaded / total : 0)), file.size);
        }
      });
    });
    if (!answer.ok()) throw refused(answer);
    transfer.ui.progress(file.size, file.size);
    return (await call(transfer, "POST", "s3/confirm", { key: params.key })).receipt;
  }

  /* The parts' size for a file of ``size`` bytes: ``chunk``, or more for a
     file that would need more than S3's 10,000 parts (past 80 GB at 8 MiB). */
  function partSizeFor(size, chunk) {
    return Math.max(chunk, Math.ceil(size / MAX_PARTS / MiB) * MiB);
  }

  async function s3Multipart(transfer) {
    var file = transfer.file;
    var size = file.size;
    var chunk = partSizeFor(size, transfer.chunkSize);
    var count = Math.ceil(size / chunk);
    var key = storageKey("s3", transfer);
    var upload = recall(key);
    var etags = {};
    function path(suffix, query) {
      return "s3/multipart/" + encodeURIComponent(upload.uploadId) + (suffix || "") +
        "?key=" + encodeURIComponent(upload.key) + (query || "");
    }
    function partSize(number) { return Math.min(chunk, size - (number - 1) * chunk); }

    if (upload) {
      try {
        var listed = await call(transfer, "GET", path());
        (Array.isArray(listed) ? listed : []).forEach(function (part) {
          if (part.Size === partSize(part.PartNumber)) etags[part.PartNumber] = part.ETag;
        });
      } catch (error) {
        if (error.kind !== "refused") throw error;
        upload = null;  // gone (completed, aborted or swept): start again
        etags = {};
      }
    }
    if (!upload) {
      var created = await call(transfer, "POST", "s3/multipart",
        { filename: file.name, size: size, metadata: { location: transfer.location } });
      upload = { uploadId: created.uploadId, key: created.key };
      remember(key, upload);
    }
    transfer.task.cleanup = function () {
      forget(key);
      return request(new shared.Task(), "DELETE", transfer.url + path(), { headers: headers(transfer) });
    };

    var queue = [];
    var sentBytes = 0;
    for (var number = 1; number <= count; number++) {
      if (etags[number]) sentBytes += partSize(number);
      else queue.push(number);
    }
    var inFlight = {};
    function report() {
      var sent = sentBytes;
      Object.keys(inFlight).forEach(function (n) { sent += inFlight[n]; });
      transfer.ui.progress(sent, size);
    }

    var urls = {};
    var signing = null;
    async function signed(number) {
      for (var tries = 0; !urls[number]; tries++) {
        if (tries > 3) throw failure("refused", "The app did not sign part " + number + ".");
        if (!signing) {
          var numbers = [number].concat(queue.filter(function (n) { return !urls[n]; }))
            .slice(0, PARTS_PER_SIGNING);
          signing = call(transfer, "GET", path("/batch", "&partNumbers=" + numbers.join(",")))
            .then(function (answer) { Object.assign(urls, answer.presignedUrls || {}); })
            .finally(function () { signing = null; });
        }
        await signing;
      }
      return urls[number];
    }

    async function sendPart(number) {
      var start = (number - 1) * chunk;
      var failures = 0;
      for (;;) {
        var url = await signed(number);
        var answer = null;
        try {
          answer = await request(transfer.task, "PUT", url, {
            body: file.slice(start, start + partSize(number)),
            onProgress: function (loaded) {
              inFlight[number] = Math.min(loaded, partSize(number));
              report();
            }
          });
        } catch (error) {
          delete inFlight[number];
          report();
          if (error.kind !== "network") throw error;
          failures = await recover(transfer, failures, error);
          continue;
        }
        delete inFlight[number];
        if (answer.ok()) {
          var etag = answer.header("ETag");
          if (!etag) {
            throw failure("refused", "S3 did not show the part's ETag: the bucket's " +
              "CORS rules must expose the ETag header.");
          }
          etags[number] = etag;
          sentBytes += partSize(number);
          report();
          return;
        }
        if ((answer.status === 403 || answer.status >= 500) && failures < RETRIES) {
          delete urls[number];  // an expired signature, or S3 busy: sign again
          failures = await recover(transfer, failures, refused(answer));
          continue;
        }
        throw refused(answer);
      }
    }

    var stopped = false;
    async function worker() {
      while (queue.length && !stopped) {
        try {
          await sendPart(queue.shift());
        } catch (error) {
          stopped = true;
          throw error;
        }
      }
    }
    report();
    var workers = [];
    for (var i = 0; i < PARTS_IN_FLIGHT; i++) workers.push(worker());
    await Promise.all(workers);

    var parts = [];
    for (var n = 1; n <= count; n++) parts.push({ PartNumber: n, ETag: etags[n] });
    var done;
    try {
      done = await call(transfer, "POST", path("/complete"), { parts: parts });
    } catch (error) {
      if (error.kind === "refused") forget(key);  // the app said no: it is over
      throw error;
    }
    forget(key);
    transfer.task.cleanup = null;
    return done.receipt;
  }

  shared.transfers = { tus: tus, s3: s3, partSizeFor: partSizeFor };
})();
