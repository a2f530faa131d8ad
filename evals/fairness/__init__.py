"""Counterfactual fairness: swap one cue (a name, a pronoun, an age ...), hold the rest fixed, compare, test."""
