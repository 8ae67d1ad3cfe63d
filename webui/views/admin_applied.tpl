% if applied is not None:
<p class="{{'notice' if applied.ok else 'error'}}" id="applied" role="status">{{_(applied.note)}}
% if applied.detail:
<small>{{applied.detail}}</small>
% end
</p>
% for w in applied.warnings:
<p class="warn">{{_('Warning')}}: {{w.where()}}: {{w.message}}</p>
% end
% end
