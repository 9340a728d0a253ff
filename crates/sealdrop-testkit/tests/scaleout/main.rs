//! Several fronts on one replicated object store: real `sealdrop serve`
//! processes on a three-node Garage cluster, with nodes and fronts killed
//! while sources upload (docs/SCALE-OUT.md). A test binary of its own, so
//! that its load (three Garage nodes, three fronts, 200 MiB uploads) never
//! shares the machine with the timing-sensitive tests in `server`.

use sealdrop_testkit as common;

mod fronts;
