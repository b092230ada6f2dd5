/* iaxadmin: what JavaScript adds to pages that work without it (plain JS, no build step; htmx
   does the requests). Ordered lists (codecs, ACL lines, templates) get up/down/remove buttons and
   drag and drop; the directive search filters the "Add a directive" groups; inline checks keep
   aria-invalid in step with the messages; focus goes to what needs attention and the sticky save
   bar never hides the focused field. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  /* what the script itself does (a line moved, a value filled in) is said in its own live
     region, so an inline check's answer in #form-status does not cut it off */
  function say(text) {
    var status = document.getElementById("js-status");
    if (!status) {
      status = document.createElement("div");
      status.id = "js-status";
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      document.body.appendChild(status);
    }
    status.textContent = text;
  }

  function fire(element) {
    element.dispatchEvent(new Event("change", { bubbles: true }));
  }

  /* -- messages and aria-invalid ---------------------------------------------------------- */
  function syncInvalid() {
    document.querySelectorAll(".field").forEach(function (row) {
      var error = row.querySelector(".field-messages .errors li");
      row.classList.toggle("has-error", !!error);
      row.classList.toggle("has-warning", !!row.querySelector(".field-messages .warnings li"));
      row.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (el) {
        if (error) el.setAttribute("aria-invalid", "true");
        else el.removeAttribute("aria-invalid");
      });
    });
  }
  document.addEventListener("htmx:oobAfterSwap", syncInvalid);
  document.addEventListener("htmx:afterSettle", syncInvalid);

  /* -- focus -------------------------------------------------------------------------------- */
  function reveal(element) {
    for (var node = element.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
  }

  function focusFirstProblem() {
    if (!document.querySelector("#error-summary, #conflict")) return;
    var target = document.querySelector("[autofocus]") || document.querySelector("[aria-invalid=true]");
    if (!target) target = document.querySelector("#error-summary, #conflict");
    reveal(target);
    if (document.activeElement !== target) target.focus();
  }

  /* the sticky save bar: scroll the focused field above it */
  document.addEventListener("focusin", function (event) {
    var form = event.target.closest && event.target.closest("form");
    var bar = form && form.querySelector(".form-actions");
    if (!bar || bar.contains(event.target)) return;
    var field = event.target.getBoundingClientRect();
    var top = bar.getBoundingClientRect().top;
    if (field.bottom > top - 8) window.scrollBy(0, field.bottom - top + 16);
  });

  /* links of the error summary: open the group, focus the field */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#error-summary a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    reveal(target);
    var control = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
    (control || target).focus();
  });

  /* -- "override" / "set Asterisk's default here" ------------------------------------------ */
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-fill]");
    if (!button) return;
    var input = document.getElementById(button.dataset.fill);
    if (!input) return;
    input.value = button.dataset.value;
    fire(input);
    input.focus();
    say(input.labels && input.labels[0] ? input.labels[0].textContent + " set to " + button.dataset.value : "");
  });

  /* -- ordered lists ------------------------------------------------------------------------ */
  function rowLabel(row) {
    var values = [];
    row.querySelectorAll("select, input").forEach(function (el) { if (el.value) values.push(el.value); });
    return values.join(" ") || "empty line";
  }

  function renumber(list) {
    var what = list.dataset.label || "line";
    list.querySelectorAll(":scope > li").forEach(function (row, index) {
      var n = index + 1;
      row.querySelectorAll("[aria-label]").forEach(function (el) {
        el.setAttribute("aria-label", el.getAttribute("aria-label").replace(/ \d+(:|$)/, " " + n + "$1"));
      });
    });
  }

  function changed(list, text) {
    renumber(list);
    var control = list.querySelector("select, input");
    if (control) fire(control);
    if (text) say(text);
  }

  function tools(row) {
    if (row.querySelector(".row-tools")) return;
    var box = document.createElement("span");
    box.className = "row-tools";
    [["up", "↑", "Move up"], ["down", "↓", "Move down"], ["remove", "✕", "Remove"]].forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "tool " + spec[0];
      button.dataset.move = spec[0];
      button.textContent = spec[1];
      button.setAttribute("aria-label", spec[2]);
      button.title = spec[2];
      box.appendChild(button);
    });
    row.appendChild(box);
    var handle = document.createElement("span");
    handle.className = "drag-handle";
    handle.setAttribute("aria-hidden", "true");
    handle.title = "Drag to reorder";
    handle.textContent = "⠿";
    row.insertBefore(handle, row.firstChild);
    row.draggable = true;
  }

  function isEmpty(row) {
    var value = row.querySelector("select:not([name$='__op']), input");
    return !value || !value.value;
  }

  function enhance(list) {
    /* the spare empty lines are for browsers without JavaScript; here "Add a line" adds one */
    var rows = Array.prototype.slice.call(list.querySelectorAll(":scope > li"));
    var filled = rows.filter(function (row) { return !isEmpty(row); });
    rows.forEach(function (row, index) {
      if (isEmpty(row) && (filled.length || index > 0) && !row.querySelector("[autofocus]")) row.remove();
    });
    renumber(list);
    list.querySelectorAll(":scope > li").forEach(tools);
    var add = document.createElement("button");
    add.type = "button";
    add.className = "secondary small add-line";
    add.textContent = "Add a line";
    add.addEventListener("click", function () {
      var rows = list.querySelectorAll(":scope > li");
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelectorAll("select, input").forEach(function (el) {
        if (el.tagName === "SELECT" && el.name.slice(-4) === "__op") return;
        el.value = "";
        el.removeAttribute("autofocus");
      });
      list.appendChild(copy);
      renumber(list);
      var first = copy.querySelector("select:not([name$='__op']), input");
      if (first) first.focus();
    });
    list.after(add);

    list.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-move]");
      if (!button) return;
      var row = button.closest("li");
      var what = rowLabel(row);
      if (button.dataset.move === "up" && row.previousElementSibling) {
        list.insertBefore(row, row.previousElementSibling);
      } else if (button.dataset.move === "down" && row.nextElementSibling) {
        list.insertBefore(row.nextElementSibling, row);
      } else if (button.dataset.move === "remove") {
        var next = row.nextElementSibling || row.previousElementSibling;
        if (list.children.length > 1) row.remove();
        else row.querySelectorAll("select:not([name$='__op']), input").forEach(function (el) { el.value = ""; });
        changed(list, what + " removed");
        var focus = next && next.parentNode === list ? next.querySelector("button.remove") : add;
        (focus || add).focus();
        return;
      } else {
        return;
      }
      button.focus();
      var position = Array.prototype.indexOf.call(list.children, row) + 1;
      changed(list, what + " moved to line " + position);
    });

    var dragged = null;
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("li");
      if (event.dataTransfer) event.dataTransfer.effectAllowed = "move";
      if (dragged) dragged.classList.add("dragging");
    });
    list.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
    });
    list.addEventListener("dragover", function (event) {
      if (dragged) event.preventDefault();
    });
    list.addEventListener("drop", function (event) {
      var target = event.target.closest("li");
      if (!dragged || !target || target === dragged) return;
      event.preventDefault();
      var after = event.clientY > target.getBoundingClientRect().top + target.offsetHeight / 2;
      list.insertBefore(dragged, after ? target.nextElementSibling : target);
      changed(list, rowLabel(dragged) + " moved to line " + (Array.prototype.indexOf.call(list.children, dragged) + 1));
    });
  }

  /* -- "Add a directive": the search over the other directives --------------------------- */
  function directiveSearch() {
    var search = document.getElementById("directive-search");
    if (!search) return;
    var status = document.getElementById("directive-search-status");
    var groups = document.querySelectorAll("#more-groups details");
    function filter() {
      var words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      var count = 0;
      groups.forEach(function (group) {
        var any = false;
        group.querySelectorAll(".field").forEach(function (row) {
          var text = row.dataset.search || "";
          var hit = words.every(function (w) { return text.indexOf(w) !== -1; });
          row.hidden = words.length > 0 && !hit;
          if (hit) { any = true; count += 1; }
        });
        group.hidden = words.length > 0 && !any;
        if (words.length) group.open = any;
      });
      status.textContent = words.length ? count + (count === 1 ? " directive matches" : " directives match") + (count ? "; Enter goes to the first" : "") : "";
    }
    search.addEventListener("input", filter);
    search.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      var row = document.querySelector("#more-groups .field:not([hidden])");
      var control = row && row.querySelector("input:not([type=hidden]), select, textarea");
      if (control) { reveal(control); control.focus(); }
    });
  }

  function start() {
    document.querySelectorAll("[data-ordered]").forEach(enhance);
    directiveSearch();
    syncInvalid();
    focusFirstProblem();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
