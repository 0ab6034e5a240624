/*
 * 网站的小脚本（Jupyter Book 把 _static/ 里的 *.js 加到每一页）。
 *
 * 1. 图片放大：正文里的图按栏宽显示（手机上约 360 px 宽）；点一下（或用键盘聚焦后按 Enter）在全屏的
 * 对话框里按原始大小显示，图比屏幕宽时可以左右滑动；点任意处、按 Esc 或“关闭”按钮回到正文。
 * 2. 窄屏表格：三列以上、有表头的表格加上 site-stack 类，每个单元格记下自己的列名（data-label），
 *    site.css 在手机上把每行排成一张卡片，列名显示在内容上方。
 */
(function () {
  "use strict";

  function setupLightbox() {
    var images = document.querySelectorAll("article.bd-article img");
    if (!images.length) return;

    var dialog = document.createElement("dialog");
    dialog.className = "site-lightbox";
    dialog.setAttribute("aria-label", "原始大小的图片");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "site-lightbox__close";
    close.textContent = "关闭";
    var big = document.createElement("img");
    big.alt = "";
    dialog.appendChild(close);
    dialog.appendChild(big);
    document.body.appendChild(dialog);
    dialog.addEventListener("click", function () { dialog.close(); });

    images.forEach(function (img) {
      if (img.closest("a")) return; // 已经是链接的图（如徽标）保持原样
      img.classList.add("site-zoomable");
      img.tabIndex = 0;
      img.setAttribute("role", "button");
      img.title = "点击查看原图";
      function open() {
        big.src = img.currentSrc || img.src;
        big.alt = img.alt || "";
        dialog.showModal();
        dialog.scrollTo(0, 0);
      }
      img.addEventListener("click", open);
      img.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          open();
        }
      });
    });
  }

  function setupTables() {
    document.querySelectorAll("article.bd-article table").forEach(function (table) {
      var headers = Array.from(table.querySelectorAll("thead tr:first-child th")).map(function (th) {
        return th.textContent.trim();
      });
      if (headers.length < 3) return;
      table.classList.add("site-stack");
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.from(row.children).forEach(function (cell, i) {
          if (headers[i]) cell.setAttribute("data-label", headers[i]);
        });
      });
    });
  }

  function setup() {
    setupLightbox();
    setupTables();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
