//! The controller's `/v1/verify` and `/v1/rotate` request bodies (controller/src/http.rs, through
//! the core functions it calls): decoded, verified, and re-sealed with the latest key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_secrets::decode::sealed_secret_from_request;
use sealed_secrets::reseal::{reseal, to_response};
use sealed_secrets::rewrite::keep_current_items;
use sealed_secrets::unseal::verify;

fuzz_target!(|data: &[u8]| {
    let Ok(ss) = sealed_secret_from_request(data) else {
        return;
    };
    let ring = fuzz_support::key_ring();
    let _ = verify(&ss, ring, true);
    let _ = verify(&ss, ring, false);
    let original = ss.clone();
    if let Ok(mut resealed) = reseal(ss, ring, true) {
        keep_current_items(&original, &mut resealed, fuzz_support::private_key());
        let _ = to_response(&resealed);
    }
});
