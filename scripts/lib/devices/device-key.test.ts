import { deriveDeviceKey } from "./device-key";

test("derives the key OpenSSL computes for a group key of the bytes 0x00…0x3f", () => {
  // K=$(python3 -c "print(''.join('%02x'%i for i in range(64)))")
  // printf '%s' symmetric-device-01 | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$K" -binary | base64
  const groupKey = Buffer.from(Array.from({ length: 64 }, (_, i) => i)).toString("base64");
  expect(groupKey).toBe("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==");
  expect(deriveDeviceKey(groupKey, "symmetric-device-01")).toBe("D3KIEEEIEd7VgvbQqEmik20mCJa1o4Z8UCyaKGsT5Uk=");
});

test("derives the key of Microsoft's documented example", () => {
  // learn.microsoft.com, "How to provision devices using symmetric key enrollment groups" (dps-api.md reference).
  const groupKey = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
  expect(deriveDeviceKey(groupKey, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6")).toBe(
    "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=",
  );
});
