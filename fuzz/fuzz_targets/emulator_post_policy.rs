#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    oss_emulator::fuzzing::post_policy(data);
});
