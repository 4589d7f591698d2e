//! Any text as a `.tf.json` file.
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = charterguard::terraform::load_text("fuzz.tf.json", text);
});
