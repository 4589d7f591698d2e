//! Any text as a `.tf` file: parsed and evaluated as a root module, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = charterguard::terraform::load_text("fuzz.tf", text);
});
