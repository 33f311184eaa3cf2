//! Where the messages of a per-call channel go: the window's `tauri::ipc::Channel`, or the
//! `--serve` event stream under the channel id the page chose. Long-lived senders (a followed
//! log, a terminal) are told when nobody listens any more, so they can end.

/// The receiving end of a channel, as a sender sees it.
pub trait Sink<T>: Send + Sync + 'static {
    /// Delivers `message`; may wait while the listener is behind. False when nobody listens
    /// any more: the sender should stop.
    fn send(&self, message: T) -> bool;

    /// Whether somebody may still listen, asked by a sender that has nothing to send.
    fn listening(&self) -> bool {
        true
    }
}

impl<T> Sink<T> for tauri::ipc::Channel<T>
where
    T: tauri::ipc::IpcResponse + Send + Sync + 'static,
{
    fn send(&self, message: T) -> bool {
        tauri::ipc::Channel::send(self, message).is_ok()
    }
}
