// The chat room: one websocket to the lifted chat_socket view.
const list = document.getElementById("messages");
const status = document.getElementById("status");
const scheme = location.protocol === "https:" ? "wss" : "ws";
const socket = new WebSocket(`${scheme}://${location.host}${window.CHAT_SOCKET_URL}`);

function show(user, text, kind = "message") {
  const item = document.createElement("li");
  item.className = kind;
  const who = document.createElement("b");
  who.className = "user";
  who.textContent = user;
  const what = document.createElement("span");
  what.className = "text";
  what.textContent = text;
  item.append(who, " ", what);
  list.append(item);
  item.scrollIntoView({block: "nearest"});
}

socket.addEventListener("open", () => { status.textContent = "connected"; });
socket.addEventListener("close", (event) => {
  status.textContent = event.reason ? `disconnected: ${event.reason}` : "disconnected";
});
socket.addEventListener("message", (event) => {
  const data = JSON.parse(event.data);
  if (data.type === "message") {
    show(data.user, data.text);
  } else if (data.type === "announcement") {
    show(data.user, data.text, "announcement");
  } else if (data.type === "presence") {
    document.getElementById("presence").textContent = data.text;
  } else if (data.type === "welcome") {
    document.getElementById("worker").textContent = `served by process ${data.worker}`;
  } else if (data.type === "error") {
    status.textContent = data.text;
  }
});

document.getElementById("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("chat-input");
  if (input.value.trim()) {
    socket.send(input.value);
    input.value = "";
  }
});
