/*
 * 章末测验（quizzes/NN.md，题目由 _ext/quiz.py 画成按钮）：点一个选项，马上显示对错、解释和「讲解见」链接。
 * 可以再点别的选项；本页得分只算第一次就选对的题。按钮是真正的 <button>，Tab 和 Enter/空格都能用。
 * Jupyter Book 把 _static/ 里的 *.js 加到每一页：没有测验的页面上它什么也不做。不从网络加载任何东西。
 */
(function () {
  "use strict";

  function setupQuiz(quiz) {
    var questions = quiz.querySelectorAll(".site-quiz__question");
    var right = quiz.querySelector(".site-quiz__right");
    var answered = quiz.querySelector(".site-quiz__answered");
    var score = { right: 0, answered: 0 };

    function update() {
      right.textContent = String(score.right);
      answered.textContent = score.answered === questions.length
        ? "（全部答完；第一次就选对的才算分）"
        : "（已答 " + score.answered + " 题）";
    }

    questions.forEach(function (question) {
      var answer = Number(question.dataset.answer);
      var buttons = question.querySelectorAll(".site-quiz__choice");
      var verdict = question.querySelector(".site-quiz__verdict");
      var feedback = question.querySelector(".site-quiz__feedback");
      var letters = "ABCD";
      var first = null;

      buttons.forEach(function (button) {
        button.addEventListener("click", function () {
          var index = Number(button.dataset.index);
          var ok = index === answer;
          if (first === null) {
            first = ok;
            score.answered += 1;
            if (ok) score.right += 1;
            update();
          }
          buttons.forEach(function (other) {
            other.setAttribute("aria-pressed", other === button ? "true" : "false");
          });
          button.classList.add(ok ? "is-right" : "is-wrong");
          if (ok) {
            question.classList.add("is-done");
            verdict.textContent = "✔ 答对了：" + letters[answer] + "。" + (first ? "" : "（第一次没选对，这题不计分）");
          } else {
            verdict.textContent = "✘ 不对：" + letters[index] + " 不是正确答案。读一读下面的解释，再选一次。";
          }
          verdict.className = "site-quiz__verdict " + (ok ? "is-right" : "is-wrong");
          feedback.hidden = false;
        });
      });
    });
    update();
  }

  function setup() {
    document.querySelectorAll(".site-quiz").forEach(setupQuiz);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
