"""all-MiniLM-L6-v2 in numpy: safetensors I/O, the BERT WordPiece tokenizer,
the encoder forward pass (with activation capture) and the sentence corpus.

Used by data/prepare_minilm.py (export of weights, K/V caches, queries and
Hessians; validation) and data/embed_eval.py (end-to-end cosine with
quantized weights). Needs only numpy (Debian's python3-numpy).

The model follows sentence-transformers' all-MiniLM-L6-v2 pipeline: BERT
(6 layers, hidden 384, 12 heads of 32, FFN 1536, exact erf GELU, LayerNorm
eps 1e-12), inputs truncated to max_seq_length = 256 tokens, mean pooling
over the attention mask, L2 normalization.
"""
import json
import math
import os
import re
import struct
import unicodedata

import numpy as np

HIDDEN = 384
HEADS = 12
HEAD_DIM = 32
LAYERS = 6
MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length
LN_EPS = 1e-12

# The linear weights qet quantizes: [out, in] matrices of every layer.
LINEAR_SUFFIXES = (
    "attention.self.query.weight",
    "attention.self.key.weight",
    "attention.self.value.weight",
    "attention.output.dense.weight",
    "intermediate.dense.weight",
    "output.dense.weight",
)
SHORT_NAMES = {
    "attention.self.query.weight": "Q",
    "attention.self.key.weight": "K",
    "attention.self.value.weight": "V",
    "attention.output.dense.weight": "O",
    "intermediate.dense.weight": "up",
    "output.dense.weight": "down",
}


def linear_weight_names():
    return [f"encoder.layer.{l}.{s}" for l in range(LAYERS) for s in LINEAR_SUFFIXES]


def hessian_input_of(name):
    """The activation that multiplies weight `name`: qkv_in (the layer input),
    o_in (attention context), up_in (post-attention LayerNorm), down_in (GELU
    output)."""
    for suffix, key in (("attention.self.query.weight", "qkv_in"),
                        ("attention.self.key.weight", "qkv_in"),
                        ("attention.self.value.weight", "qkv_in"),
                        ("attention.output.dense.weight", "o_in"),
                        ("intermediate.dense.weight", "up_in"),
                        ("output.dense.weight", "down_in")):
        if name.endswith(suffix):
            return key
    raise ValueError(f"not a linear weight: {name}")


# ---------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64,
           "F64": np.float64, "I32": np.int32}


def read_safetensors(path):
    """All tensors of a safetensors file as numpy arrays (BF16 widened to F32)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[base + begin:base + end]
        if info["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        elif info["dtype"] in _DTYPES:
            arr = np.frombuffer(raw, dtype=np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<"))
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        out[name] = arr.reshape(info["shape"]).copy()
    return out


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: array} (float32 or float16, C order), header padded to 8."""
    header = {}
    offset = 0
    blobs = []
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        code = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}[arr.dtype]
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def save_npy(path, arr):
    tmp = path + ".tmp.npy"
    np.save(tmp, np.ascontiguousarray(arr))
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# Tokenizer: BertNormalizer(clean_text, handle_chinese_chars, lowercase,
# strip_accents = lowercase) + BertPreTokenizer + WordPiece (tokenizer.json).
# ---------------------------------------------------------------------------
def _is_whitespace(ch):
    if ch in " \t\n\r":
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F
            or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF
            or 0x2F800 <= cp <= 0x2FA1F)


class WordPieceTokenizer:
    def __init__(self, vocab_path):
        with open(vocab_path, encoding="utf-8") as f:
            tokens = [line.rstrip("\n") for line in f]
        self.vocab = {t: i for i, t in enumerate(tokens)}
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]
        self.unk = self.vocab["[UNK]"]
        self.pad = self.vocab["[PAD]"]

    def normalize(self, text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_chinese(cp):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        text = unicodedata.normalize("NFD", "".join(out))
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        return text.lower()

    def pre_tokenize(self, text):
        words = []
        for chunk in text.split():
            current = ""
            for ch in chunk:
                if _is_punctuation(ch):
                    if current:
                        words.append(current)
                        current = ""
                    words.append(ch)
                else:
                    current += ch
            if current:
                words.append(current)
        return words

    def wordpiece(self, word):
        if len(word) > 100:
            return [self.unk]
        ids = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end]
                if start > 0:
                    piece = "##" + piece
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def tokenize(self, text):
        """Token ids of `text` without [CLS]/[SEP]."""
        ids = []
        for word in self.pre_tokenize(self.normalize(text)):
            ids.extend(self.wordpiece(word))
        return ids

    def encode(self, text, max_tokens=MAX_TOKENS):
        """[CLS] ids [SEP], truncated to max_tokens in all."""
        return [self.cls] + self.tokenize(text)[:max_tokens - 2] + [self.sep]


# ---------------------------------------------------------------------------
# The encoder
# ---------------------------------------------------------------------------
def _erf(x):
    try:
        from scipy.special import erf
        return erf(x)
    except ImportError:  # numpy only: vectorized math.erf
        return np.vectorize(math.erf, otypes=[np.float64])(x).astype(x.dtype)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / np.float32(math.sqrt(2.0))).astype(np.float32))


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LN_EPS) * w + b


class MiniLM:
    """fp32 numpy forward pass. `weights` maps safetensors names to arrays;
    `replace` (optional) overrides linear weights (e.g. reconstructions)."""

    def __init__(self, weights, replace=None):
        self.w = {k: np.asarray(v, dtype=np.float32) if v.dtype != np.int64 else v
                  for k, v in weights.items()}
        if replace:
            for name, value in replace.items():
                if name not in self.w or self.w[name].shape != value.shape:
                    raise ValueError(f"replacement {name}: no such weight of shape {value.shape}")
                self.w[name] = np.asarray(value, dtype=np.float32)
        # Pre-transposed linear weights: y = x @ W^T + b.
        self.wt = {name: np.ascontiguousarray(self.w[name].T) for name in linear_weight_names()}

    def forward(self, ids, mask, capture=None):
        """ids, mask: [B, L] int arrays. Returns the last hidden states [B, L, 384].
        capture(layer, dict) is called per layer with q, k, v (heads side by
        side, [B, L, 384]) and the inputs of the four linear groups."""
        w = self.w
        B, L = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:L][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)
        scale = np.float32(1.0 / math.sqrt(HEAD_DIM))
        for l in range(LAYERS):
            p = f"encoder.layer.{l}."

            def lin(inp, suffix):
                # 2-D GEMM (one BLAS call), then back to [B, L, out].
                wt = self.wt[p + suffix + ".weight"]
                y = inp.reshape(-1, inp.shape[-1]) @ wt
                y += w[p + suffix + ".bias"]
                return y.reshape(inp.shape[:-1] + (wt.shape[1],))

            q = lin(x, "attention.self.query")
            k = lin(x, "attention.self.key")
            v = lin(x, "attention.self.value")
            qh = q.reshape(B, L, HEADS, HEAD_DIM).transpose(0, 2, 1, 3)
            kh = k.reshape(B, L, HEADS, HEAD_DIM).transpose(0, 2, 1, 3)
            vh = v.reshape(B, L, HEADS, HEAD_DIM).transpose(0, 2, 1, 3)
            s = (qh @ kh.transpose(0, 1, 3, 2)) * scale + bias
            s = s - s.max(-1, keepdims=True)
            e = np.exp(s)
            a = e / e.sum(-1, keepdims=True)
            ctx = (a @ vh).transpose(0, 2, 1, 3).reshape(B, L, HIDDEN)
            att = lin(ctx, "attention.output.dense")
            x1 = layer_norm(att + x, w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"])
            inter = gelu(lin(x1, "intermediate.dense"))
            out = lin(inter, "output.dense")
            if capture is not None:
                capture(l, {"q": q, "k": k, "v": v, "qkv_in": x, "o_in": ctx,
                            "up_in": x1, "down_in": inter})
            x = layer_norm(out + x1, w[p + "output.LayerNorm.weight"],
                           w[p + "output.LayerNorm.bias"])
        return x

    def embed(self, token_lists, batch=32, capture=None):
        """Sentence embeddings (mean pooling over real tokens, L2-normalized),
        in the order of `token_lists`. Batches are formed by length (sorted)
        to limit padding; padding never changes a sentence's result beyond
        fp32 rounding because padded keys get -inf-like logits."""
        order = sorted(range(len(token_lists)), key=lambda i: (len(token_lists[i]), i))
        out = np.zeros((len(token_lists), HIDDEN), dtype=np.float32)
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            L = max(len(token_lists[i]) for i in idx)
            ids = np.zeros((len(idx), L), dtype=np.int64)
            mask = np.zeros((len(idx), L), dtype=np.int64)
            for r, i in enumerate(idx):
                ids[r, :len(token_lists[i])] = token_lists[i]
                mask[r, :len(token_lists[i])] = 1
            cap = None
            if capture is not None:
                cap = lambda layer, acts, mask=mask: capture(layer, acts, mask)
            h = self.forward(ids, mask, cap)
            m = mask[..., None].astype(np.float32)
            pooled = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            norm = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[idx] = pooled / norm
        return out


# ---------------------------------------------------------------------------
# Text: sentences of the licence texts Debian's base-files installs.
# ---------------------------------------------------------------------------
LICENSE_DIR = "/usr/share/common-licenses"
# Calibration (Hessians, K/V caches, queries) and held-out (end-to-end cosine)
# texts; disjoint files, and held-out sentences that also occur in a
# calibration file are dropped.
CALIBRATION_FILES = ("Apache-2.0", "GPL-3", "LGPL-3", "MPL-2.0", "GFDL-1.3")
HELDOUT_FILES = ("Artistic", "BSD", "CC0-1.0", "MPL-1.1", "GPL-1", "GPL-2",
                 "LGPL-2", "LGPL-2.1", "GFDL-1.2")
KV_FILE = "Apache-2.0"

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'(A-Z0-9])")


def license_path(name):
    path = os.path.join(LICENSE_DIR, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} is missing: it comes with Debian's base-files package "
            "(apt-get install --reinstall base-files)")
    return path


def read_text(name):
    with open(license_path(name), encoding="utf-8") as f:
        return f.read()


def sentences_of(text, min_words=6, max_words=80):
    """Paragraphs (blank-line separated, lines joined) split at sentence ends;
    keeps sentences of min_words..max_words words with at least 3 alphabetic
    words (drops headings, addresses, separators)."""
    result = []
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        for s in _SENTENCE_END.split(para):
            s = s.strip()
            words = s.split()
            if not (min_words <= len(words) <= max_words):
                continue
            if sum(1 for w in words if re.fullmatch(r"[A-Za-z][A-Za-z'-]*[,.;:]?", w)) < 3:
                continue
            result.append(s)
    return result


def _key(sentence):
    return " ".join(re.findall(r"[a-z0-9]+", sentence.lower()))


def corpus():
    """(calibration sentences, held-out sentences), deterministic, deduplicated."""
    calibration, seen = [], set()
    for name in CALIBRATION_FILES:
        for s in sentences_of(read_text(name)):
            if _key(s) not in seen:
                seen.add(_key(s))
                calibration.append(s)
    heldout = []
    for name in HELDOUT_FILES:
        for s in sentences_of(read_text(name)):
            if _key(s) not in seen:
                seen.add(_key(s))
                heldout.append(s)
    return calibration, heldout
