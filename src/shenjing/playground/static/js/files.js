// Files in and out: the CSV upload, the model downloads and the Python snippet.

const $ = (id) => document.getElementById(id);
const MAX_BYTES = 256 * 1024;

export function setupFiles({ send, status }) {
  let session = null;
  const token = new URLSearchParams(location.search).get("token") || "";

  $("upload").addEventListener("change", async () => {
    const file = $("upload").files[0];
    const message = $("upload-message");
    if (!file || !session) return;
    if (file.size > MAX_BYTES) {
      message.textContent = `The file is larger than ${MAX_BYTES / 1024} kB.`;
      return;
    }
    message.textContent = "Reading…";
    try {
      const reply = await fetch(`/api/upload?session=${encodeURIComponent(session)}`, {
        method: "POST",
        headers: { "X-Playground-Token": token, "Content-Type": "text/csv" },
        body: await file.arrayBuffer(),
      });
      const answer = await reply.json().catch(() => ({ ok: false, message: `the server answered ${reply.status}` }));
      message.textContent = answer.ok ? `Loaded: ${answer.message}` : `Not loaded: ${answer.message}`;
      message.classList.toggle("error", !answer.ok);
      if (answer.ok) send({ type: "refresh" });
    } catch (error) {
      message.textContent = `Not loaded: ${error.message}`;
    }
    $("upload").value = "";
  });

  $("copy-snippet").addEventListener("click", async () => {
    const text = $("snippet").textContent;
    try {
      await navigator.clipboard.writeText(text);
      status("The Python snippet is on the clipboard.");
    } catch {
      const range = document.createRange();
      range.selectNodeContents($("snippet"));
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status("Select and copy the snippet below (the clipboard is not available here).");
    }
  });

  return {
    ready(id, onnx) {
      session = id;
      const query = `session=${encodeURIComponent(id)}&token=${encodeURIComponent(token)}`;
      $("download-shj").href = `/api/model.shj?${query}`;
      $("download-onnx").href = `/api/model.onnx?${query}`;
      $("download-onnx").hidden = !onnx;
      $("onnx-note").textContent = onnx ? "" : "ONNX download needs onnx on the server: pip install 'shenjing[onnx]'";
    },
  };
}
