#![forbid(unsafe_code)]

fn main() {
    eprintln!("sealdrop server: not built yet");
}
