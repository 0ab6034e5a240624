/*
 * 中文查询分词（_ext/site_search.py 的另一半）。
 *
 * Sphinx 的索引用 jieba 分词，浏览器里的 searchtools.js 却只按空格和标点切查询（splitQuery），
 * 所以「数据加载」找不到任何页面，而「数据 加载」能找到。searchtools.js 只在 splitQuery 还没定义时
 * 才定义默认的那个，这里先定义它：先照原样按非文字字符切开，再把每段里的汉字用索引自己的词表
 * （searchindex.js 的 terms 与 titleterms）做正向和逆向最大匹配，取切出的词更少、落单的字更少的一种。
 * 不在词表里的单字（如「的」）丢掉：索引本来就不收单字。全部离线，不需要额外的词典文件。
 *
 * 排序（Scorer.score，searchtools.js 同样只在 Scorer 未定义时才定义默认的那个）：Sphinx 对一页的打分只看
 * “有没有”，不看“讲得多不多”，十几页同分时按标题字母排，讲这个主题的那一章常常排在后面。这里在默认分数上
 * 按标题加分：整个查询（或术语表里它的英文名，如「数据集」→ dataset）出现在页面标题里加得最多，出现在小节
 * 标题里按小节数加；切出来的每个词也按同样的办法少加一些（见 score）。术语表的中英对照由
 * _ext/site_search.py 在构建时写进每一页的 SITE_SEARCH_SYNONYMS。标题以整个查询开头的页面再加一点分
 * （「3.1 计算图：……」排在「3.5 深入：计算图的节点……」前面）；英文名按整词匹配。
 * 英文词换成索引里的写法（indexForm）；结果摘要只取讲解的文字，不取目录、代码和输出（patchSummaries）。
 */
var SITE_SEARCH = (function () {
  "use strict";
  var HAN = /\p{Script=Han}+|[^\p{Script=Han}]+/gu;
  var cache = null; // 索引的词表（Set）和最长词的长度
  // 上一次的查询，排序时用：整个查询（小写、去掉空格和 -_.）、它的各种写法和匹配函数、切出来的每个词的匹配函数。
  // 在切分时算一次（prepare），而不是给每个结果打分时重算
  var current = { phrase: "", words: [] };
  var sections = null; // 文档序号 → 它的小节标题（小写、去空格）

  function vocabulary() {
    var index = typeof Search !== "undefined" && Search._index;
    if (!index) return null;
    if (cache && cache.index === index) return cache;
    var words = new Set(Object.keys(index.terms || {}).concat(Object.keys(index.titleterms || {})));
    var longest = 1;
    words.forEach(function (w) { if (w.length > longest) longest = w.length; });
    cache = { index: index, words: words, longest: Math.min(longest, 12) };
    return cache;
  }

  // 正向（reverse=false）或逆向最大匹配；不在词表里的字单独成段，标记 known=false
  function maxMatch(text, vocab, reverse) {
    var out = [];
    var chars = Array.from(text);
    var i = reverse ? chars.length : 0;
    while (reverse ? i > 0 : i < chars.length) {
      var found = null;
      for (var n = Math.min(vocab.longest, reverse ? i : chars.length - i); n >= 1; n--) {
        var piece = reverse ? chars.slice(i - n, i).join("") : chars.slice(i, i + n).join("");
        if (vocab.words.has(piece)) { found = piece; break; }
      }
      var word = found || (reverse ? chars[i - 1] : chars[i]);
      out.push({ word: word, known: found !== null });
      i += reverse ? -Array.from(word).length : Array.from(word).length;
    }
    return reverse ? out.reverse() : out;
  }

  function cost(segments) {
    var unknown = segments.filter(function (s) { return !s.known; }).length;
    return unknown * 100 + segments.length;
  }

  function segmentHan(text, vocab) {
    if (vocab.words.has(text)) return [text];
    var forward = maxMatch(text, vocab, false);
    var backward = maxMatch(text, vocab, true);
    var best = cost(backward) <= cost(forward) ? backward : forward;
    return best.filter(function (s) { return s.known; }).map(function (s) { return s.word; });
  }

  // 英文词：索引里的词是构建时用 Python 的 Snowball 词干算法截过的（weights_only → weights_on），浏览器里的
  // Porter 算法截得不一样（→ weights_onli），于是「weights_only」什么也找不到。查询词不在索引里、而索引里有
  // 它的一个只短一两个字母的前缀时，换成索引里的那个写法
  function indexForm(word, vocab) {
    var lower = word.toLowerCase();
    if (vocab.words.has(lower)) return word;
    for (var n = lower.length - 1; n >= Math.max(3, lower.length - 3); n--) {
      if (vocab.words.has(lower.slice(0, n))) return lower.slice(0, n);
    }
    return word;
  }

  function split(query) {
    var vocab = vocabulary();
    var out = [];
    query
      .split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu)
      .filter(function (t) { return t; })
      .forEach(function (token) {
        (token.match(HAN) || []).forEach(function (run) {
          if (/\p{Script=Han}/u.test(run) && vocab) out.push.apply(out, segmentHan(run, vocab));
          else out.push(vocab ? indexForm(run, vocab) : run);
        });
      });
    // 整个查询去掉空格：「数据 加载」与「数据加载」同样打分
    current = prepare(squash(query), out.map(function (w) { return w.toLowerCase(); }));
    return out;
  }

  // ---- 排序 ----

  function squash(text) {
    return text.toLowerCase().replace(/[\s\-_.]+/g, "");
  }

  function sectionTitles(index) {
    if (sections && sections.index === index) return sections.byDoc;
    var byDoc = {};
    Object.keys(index.alltitles || {}).forEach(function (title) {
      index.alltitles[title].forEach(function (hit) {
        if (hit[1] === null) return; // 页面标题本身
        (byDoc[hit[0]] = byDoc[hit[0]] || []).push(squash(title));
      });
    });
    sections = { index: index, byDoc: byDoc };
    return byDoc;
  }

  // 术语表里的英文名：先找同名术语；没有时（查询至少 3 个字）找包含它的术语，如「数据加载」→「数据加载器」→ data loader
  function englishNames(phrase) {
    var synonyms = typeof SITE_SEARCH_SYNONYMS === "undefined" ? {} : SITE_SEARCH_SYNONYMS;
    if (synonyms[phrase]) return synonyms[phrase];
    if (Array.from(phrase).length < 3 || !/\p{Script=Han}/u.test(phrase)) return [];
    var found = [];
    Object.keys(synonyms).forEach(function (term) {
      if (term.indexOf(phrase) >= 0) found = found.concat(synonyms[term]);
    });
    return found;
  }

  // 英文名按整词匹配：「数据集」→ dataset 认「4.1 手写一个 Dataset」，不认「IterableDataset」
  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  // 反过来：英文查询（dropout）→ 术语表里以它为英文名的中文术语（丢弃法）
  function chineseNames(word) {
    var synonyms = typeof SITE_SEARCH_SYNONYMS === "undefined" ? {} : SITE_SEARCH_SYNONYMS;
    var lower = word.toLowerCase();
    if (/\p{Script=Han}/u.test(lower)) return [];
    return Object.keys(synonyms).filter(function (term) {
      return synonyms[term].some(function (e) { return squash(e) === squash(lower); });
    });
  }

  function names(word) {
    return [squash(word)].concat(englishNames(word).map(squash), chineseNames(word).map(squash))
      .filter(function (n) { return n; });
  }

  // names_：一个词的各种写法（names()）；返回判断 squash 过的标题里有没有它的函数
  function matcher(names_, atStart) {
    var patterns = names_.map(function (n) {
      var english = /^[a-z0-9]/.test(n);
      var body = escapeRegExp(n) + (english ? "(?![a-z0-9])" : "");
      // 标题已经 squash 过（「3.1 计算图」→「31计算图」）。atStart：标题在编号之后就以它开头
      return new RegExp((atStart ? "^[0-9]*" : english ? "(?:^[0-9]*|[^a-z0-9])" : "") + body);
    });
    return function (text) { return patterns.some(function (p) { return p.test(text); }); };
  }

  function prepare(phrase, words) {
    var phraseNames = names(phrase);
    return {
      phrase: phrase,
      names: phraseNames,
      inTitle: matcher(phraseNames),
      atStart: matcher(phraseNames, true),
      words: words.length > 1 ? words.map(function (w) { return matcher(names(w)); }) : [],
    };
  }

  function score(result) {
    var docname = result[0], anchor = result[2], base = result[4];
    var index = typeof Search !== "undefined" && Search._index;
    if (!index || anchor) return base; // 小节结果：查询本身就是小节标题的一部分，保持原分
    var doc = index.docnames.indexOf(docname);
    if (doc < 0) return base;
    var title = squash(index.titles[doc]);
    var titles = sectionTitles(index)[doc] || [];
    var bonus = 0;
    // 整个查询：在页面标题里 +40，标题就以它开头（「3.1 计算图：……」，而不是「深入：计算图的节点……」
    // 或「……与自动求导：在验证集上推理」这种顺带提到的）再 +10；每个含有它的小节标题 +6（最多 4 个）
    if (current.phrase) {
      var inPhrase = current.inTitle;
      if (inPhrase(title)) bonus += 40;
      if (current.atStart(title)) bonus += 10;
      // 标题越是“就讲这个”越好：查询（或它的对照名）占标题的比例，最多 +16（「3. 自动求导」胜过「17.2 自动求导的报错」）
      var share = 0;
      current.names.forEach(function (n) { if (title.indexOf(n) >= 0) share = Math.max(share, n.length / title.length); });
      bonus += Math.round(16 * share);
      // 术语表「首次出现」一列链接的页面：课程引入这个术语的地方 +20
      var homes = typeof SITE_SEARCH_HOMES === "undefined" ? {} : SITE_SEARCH_HOMES;
      if (homes[current.phrase] === docname) bonus += 20;
      bonus += 6 * Math.min(4, titles.filter(inPhrase).length);
    }
    // 切出来的每个词：在页面标题里 +12，每个含有它的小节标题 +2（最多 5 个）
    current.words.forEach(function (has) {
      if (has(title)) bonus += 12;
      bonus += 2 * Math.min(5, titles.filter(has).length);
    });
    return base + bonus;
  }

  var scorer = {
    score: score,
    // 以下是 searchtools.js 的默认值
    objNameMatch: 11,
    objPartialMatch: 6,
    objPrio: { 0: 15, 1: 5, 2: -5 },
    objPrioDefault: 0,
    title: 15,
    partialTitle: 7,
    term: 5,
    partialTerm: 2,
  };
  // ---- 结果摘要 ----
  // searchtools.js 的摘要取页面正文（[role=main]）的文字，其中有只在打印时显示的本页目录、「本页的输出……」一行、
  // 代码和输出，摘要常常是一串目录或代码。取文字之前先去掉它们，摘要就是讲解的文字
  var NOT_PROSE = ["#jb-print-docs-body", ".ptnotes-verified", "div.cell_input", "div.cell_output", "div.highlight",
                   "details.hide", "nav", ".toctree-wrapper", "mjx-container", ".math"];

  function patchSummaries() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.siteProse) return;
    var original = Search.htmlToText;
    var prose = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      NOT_PROSE.forEach(function (selector) {
        doc.querySelectorAll(selector).forEach(function (el) { el.remove(); });
      });
      return original(doc.documentElement.outerHTML, anchor);
    };
    prose.siteProse = true;
    Search.htmlToText = prose;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", patchSummaries);
  else patchSummaries();

  return { splitQuery: split, Scorer: scorer, patchSummaries: patchSummaries };
})();
var splitQuery = SITE_SEARCH.splitQuery;
var Scorer = SITE_SEARCH.Scorer;
