// 打印: a list's print button, shown only where scripts run (printing from the browser's menu works alike:
// the print stylesheet in portal.css drops the menu and the forms and repeats the table headers).
"use strict";
document.querySelectorAll("button.print-button").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
