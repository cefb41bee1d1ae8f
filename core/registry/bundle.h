#pragma once
// Bundles: a registered model version as one file that travels and cannot be swapped. A bundle is a POSIX tar
// archive (pax format, written and read through libarchive) with this layout:
//
//   keel-bundle/manifest.json    {"format": "keel-bundle", "version": 1, "members": {PATH: SHA-256 hex, ...}}
//   keel-bundle/card.json        the version's card (ModelVersion::cardJson): lineage, schema, metrics, importance
//   keel-bundle/model            the model as trained (XGBoost JSON, or Keel's JSON for linear models)
//   keel-bundle/recipe.json      the fitted recipe
//   keel-bundle/split.json       which source rows trained, validated and tested
//   keel-bundle/background.csv   a sample of training rows: the explanation and monitoring baseline
//   keel-bundle/signature        optional: Ed25519 signature of manifest.json's bytes (raw 64 bytes)
//   keel-bundle/public_key.pem   optional: the signer's public key
//
// Reading verifies every listed member against its hash, refuses members that are missing or not listed, and names
// the member at fault. Entries carry fixed metadata (mode 0644, owner 0, a fixed time), so the same content makes
// the same bytes.

#include "util/result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <map>

namespace keel::registry {

inline constexpr const char *kBundleFormat = "keel-bundle";
inline constexpr int kBundleVersion = 1;

/// The members of a bundle other than the manifest and the signature files: "card.json", "model", "recipe.json",
/// "split.json", "background.csv". Keys are paths below keel-bundle/.
using BundleMembers = std::map<QString, QByteArray>;

/// An Ed25519 key pair in PEM (PKCS#8 private key, SubjectPublicKeyInfo public key).
struct SigningKey {
    QByteArray privatePem;
    QByteArray publicPem;
};

/// A bundle read back and verified.
struct Bundle {
    QJsonObject manifest;
    BundleMembers members;
    QByteArray manifestBytes;
    QByteArray signature;      ///< empty when unsigned
    QByteArray publicKeyPem;   ///< the key shipped in the bundle (empty when unsigned)
    bool signedBundle() const { return !signature.isEmpty(); }
};

/// Writes the bundle of `members` (each must be one of the names above; card.json required), signed with
/// `privateKeyPem` when given.
Expected<QByteArray> writeBundle(const BundleMembers &members, const QByteArray &privateKeyPem = {});

/// Reads and verifies a bundle. Errors (kind Corrupt) name `source` and the member: a hash that does not match, a
/// member missing or not in the manifest, a damaged archive; a bundle of an unknown format or newer version is
/// InvalidInput. A signature present is checked against the public key in the bundle (a bad one is Corrupt).
Expected<Bundle> readBundle(const QByteArray &bytes, const QString &source);

/// Checks that `bundle` is signed by the holder of `trustedPublicPem` (not merely by the key it carries).
Status verifySignedBy(const Bundle &bundle, const QByteArray &trustedPublicPem, const QString &source);

/// A new Ed25519 key pair (OpenSSL).
Expected<SigningKey> createSigningKey();

} // namespace keel::registry
