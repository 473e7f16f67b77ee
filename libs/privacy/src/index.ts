// Crypto-shredding: personal data in events sealed under per-person keys that erasure destroys.
// See docs/architecture.md.
export {};
