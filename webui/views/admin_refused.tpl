% if refused is not None:
<div class="error" id="refused" role="alert"><p>{{_('Not saved: the configuration would not be valid. Nothing was changed.')}}</p>
<ul>
% for e in refused.errors:
<li>{{e.where()}}: {{e.message}}</li>
% end
</ul></div>
% end
