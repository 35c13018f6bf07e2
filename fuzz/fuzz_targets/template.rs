//! Go templates (crates/gotemplate): parse and execute any source with the controller's data,
//! never panicking, within the output limit (the work and depth limits bound the time: a slow
//! input shows as a libFuzzer timeout).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((source, extra)) = fuzz_support::template_input(data) else {
        return;
    };
    let items = fuzz_support::template_data(extra);
    if let Ok(out) = gotemplate::render("fuzz", source, &items) {
        assert!(
            out.len() <= gotemplate::MAX_OUTPUT,
            "output over MAX_OUTPUT"
        );
    }
});
