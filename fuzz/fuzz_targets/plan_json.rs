//! Any text as `terraform show -json` output.
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    let path = std::path::Path::new("plan.json");
    let _ = charterguard::plan::load_file(path, &"plan.json".into(), text, std::path::Path::new("."));
});
