// Producer Lab's CodeMirror 6 bundle: one global, ProducerLabEditor.attach(textarea, lang).
import {EditorView, basicSetup} from "codemirror";
import {EditorState} from "@codemirror/state";
import {keymap} from "@codemirror/view";
import {indentWithTab} from "@codemirror/commands";
import {python} from "@codemirror/lang-python";
import {json} from "@codemirror/lang-json";

function attach(textarea, lang) {
  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        lang === "json" ? json() : python(),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({"aria-label": textarea.getAttribute("aria-label") || "Code editor"}),
        // The textarea stays the form field: the form submits without any editor code.
        EditorView.updateListener.of(u => { if (u.docChanged) textarea.value = u.state.doc.toString(); }),
      ],
    }),
  });
  textarea.parentNode.insertBefore(view.dom, textarea);
  textarea.hidden = true;
  textarea.editorView = view;
  return view;
}

function setDoc(view, text) {
  view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}});
}

window.ProducerLabEditor = {attach, setDoc, EditorView};
