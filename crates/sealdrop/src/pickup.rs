//! Runs on the editors' transfer laptop: the client side of the pickup
//! protocol, whose wire types are `sealdrop_format::pickup`.

pub(crate) mod client;
pub(crate) mod push;
