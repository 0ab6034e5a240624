/*
 * 网站的小脚本（Jupyter Book 把 _static/ 里的 *.js 加到每一页）。
 *
 * 1. 图片放大：正文里的图按栏宽显示（手机上约 360 px 宽）；点一下（或用键盘聚焦后按 Enter）在全屏的
 * 对话框里按原始大小显示，图比屏幕宽时可以左右滑动；点任意处、按 Esc 或“关闭”按钮回到正文。
 * 2. 窄屏表格：三列以上、有表头的表格加上 site-stack 类，每个单元格记下自己的列名（data-label），
 *    site.css 在手机上把每行排成一张卡片，列名显示在内容上方。
 * 3. 手机上点「本页目录」里的小节后关上目录；4. 下载菜单里的「全书 PDF」；5. 行内代码在 . _ ( 后面可以断行。
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

  // 3. 手机上的「本页目录」是一个弹出的对话框：点了其中一个小节，跳过去的同时把它关上，而不是留在正文上面
  function setupPageTocDrawer() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("#pst-secondary-sidebar-modal a[href^='#']");
      var dialog = document.getElementById("pst-secondary-sidebar-modal");
      if (link && dialog && dialog.open) dialog.close();
    });
  }

  // 4. 下载菜单：加上「全书 PDF」（make pdf 复制进网站根目录的那一份，参考答案全部展开）；
  //    主题原有的「.pdf」其实是用浏览器打印本页，改叫「打印本页」
  function setupDownloadMenu() {
    var menu = document.querySelector(".dropdown-download-buttons ul.dropdown-menu");
    if (!menu) return;
    var print = menu.querySelector(".btn-download-pdf-button .btn__text-container");
    if (print) print.textContent = "打印本页";
    var root = document.documentElement.dataset.content_root || "";
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.href = root + "pytorch-shizhan-biji.pdf";
    link.className = "btn btn-sm dropdown-item site-book-pdf";
    link.title = "全书 PDF（参考答案全部展开）";
    link.innerHTML = '<span class="btn__icon-container"><i class="fas fa-book"></i></span>' +
      '<span class="btn__text-container">全书 PDF</span>';
    item.appendChild(link);
    menu.appendChild(item);
  }

  // 5. 行内代码的断行点：在 . _ / ( , = 后面加 <wbr>。手机上一行放不下 `torch.utils.tensorboard` 时，
  //    断在「torch.utils.」之后，而不是「tensorbo|ard」（复制出来的文字不变：<wbr> 不是字符）
  function setupCodeBreaks() {
    document.querySelectorAll("article.bd-article code.literal span.pre").forEach(function (span) {
      if (span.childNodes.length !== 1 || span.firstChild.nodeType !== 3) return;
      var text = span.textContent;
      var parts = text.split(/(?<=[._\/(,=])(?=.)/);
      if (parts.length < 2) return;
      span.textContent = "";
      parts.forEach(function (part, i) {
        if (i) span.appendChild(document.createElement("wbr"));
        span.appendChild(document.createTextNode(part));
      });
    });
  }

  function setup() {
    setupCodeBreaks();
    setupLightbox();
    setupTables();
    setupPageTocDrawer();
    setupDownloadMenu();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
