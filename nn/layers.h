// All of nn's layers in one include: Linear, Embedding, EmbeddingBag, Dropout, MLP (linear.h),
// LayerNorm, BatchNorm (norm.h), GRU, LSTM (rnn.h), MultiHeadAttention, TransformerEncoderLayer,
// PositionalEmbedding (attention.h). Losses, optimizers and metrics have their own headers.
#pragma once
#include "nn/attention.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "nn/params.h"
#include "nn/rnn.h"
