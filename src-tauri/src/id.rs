//! The ids of what outlives the call that started it: a followed log's subscription, a
//! terminal session. A module of its own, low in the crate, so that `follow` and `terminal`,
//! which hand them out, need not import `commands`, which imports them.

/// A new random id for a subscription or a session: 16 hex characters.
pub fn new_id() -> String {
    use rand::RngExt;
    let bytes: [u8; 8] = rand::rng().random();
    hex::encode(bytes)
}
