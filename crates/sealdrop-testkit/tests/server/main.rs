//! The real server on real sockets. Behaviour tests run it in-process through
//! `sealdrop_server::serve` (common::server::Server::start); tests that need
//! a process of its own (signals, crashes, hardening, logging, memory, the
//! command line) run the `sealdrop` binary (Server::spawn).

use sealdrop_testkit as common;

mod browser;
mod crash;
mod deploy;
mod desks;
mod disk_full;
mod door;
mod hardening;
mod hardware;
mod hostile;
mod http;
mod load;
mod meet;
mod memory;
mod model;
mod notify;
mod pickup;
mod refused;
mod replies;
mod slots;
mod status;
mod store;
mod times;
mod tor;
